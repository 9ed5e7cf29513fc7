package names_test

import (
	"testing"

	"github.com/tidingsdev/tidings/internal/names"
)

func TestFull(t *testing.T) {
	cases := []struct{ first, last, want string }{
		{"Ann", "Lee", "Ann Lee"},
		{"芳", "王", "王芳"},
		{" 小明 ", "王", "王小明"},
		{"太郎", "山田", "山田太郎"},
		{"민준", "김", "김민준"},
		{"Zoë \"Zed\"", "O'Brien", `Zoë "Zed" O'Brien`},
		{"Fang", "王", "Fang 王"},
		{"芳", "", "芳"},
		{"", "Lee", "Lee"},
		{"", "", ""},
	}
	for _, tc := range cases {
		if got := names.Full(tc.first, tc.last); got != tc.want {
			t.Errorf("Full(%q, %q) = %q, want %q", tc.first, tc.last, got, tc.want)
		}
	}
}
