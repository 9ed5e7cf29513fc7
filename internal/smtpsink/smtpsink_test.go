package smtpsink_test

import (
	"context"
	"testing"

	"github.com/tidingsdev/tidings/internal/smtpsink"
)

func start(t *testing.T, opt smtpsink.Options) *smtpsink.Sink {
	t.Helper()
	s, err := smtpsink.Start(opt)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func TestDiscardCountsWithoutKeeping(t *testing.T) {
	keep := start(t, smtpsink.Options{})
	discard := start(t, smtpsink.Options{Discard: true})
	bodies := []smtpsink.Body{{Subject: "Hello", Text: "Hi Ada", HTML: "<p>Hi Ada</p>"}}
	for _, s := range []*smtpsink.Sink{keep, discard} {
		bare, err := smtpsink.NewBareSender(context.Background(), s.Addr(), 2, bodies)
		if err != nil {
			t.Fatal(err)
		}
		for i := range 5 {
			if err := bare.Send(i); err != nil {
				t.Fatal(err)
			}
		}
		bare.Close()
	}
	if keep.Count() != 5 || discard.Count() != 5 {
		t.Fatalf("counted %d and %d messages, want 5 each", keep.Count(), discard.Count())
	}
	if len(keep.Messages()) != 5 || len(discard.Messages()) != 0 {
		t.Errorf("kept %d and %d messages, want 5 and none", len(keep.Messages()), len(discard.Messages()))
	}
	var size int64
	for _, m := range keep.Messages() {
		size += int64(len(m.Data))
	}
	if keep.Bytes() != size || discard.Bytes() == 0 {
		t.Errorf("bytes: %d kept (messages hold %d), %d discarded; want equal, and nonzero", keep.Bytes(), size, discard.Bytes())
	}
	if keep.Connections() != 2 {
		t.Errorf("5 messages over %d connections, want the bare sender's 2", keep.Connections())
	}
}
