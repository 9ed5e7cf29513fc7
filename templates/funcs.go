package templates

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"text/template"
	"time"
)

// style is how one locale writes greetings, dates and money. Locales
// without an entry borrow their language's, then English.
type style struct {
	greet        func(first, last string) string // "" names mean "no name known"
	date         func(t time.Time) string
	dateTime     func(t time.Time) string
	currency     string            // default ISO 4217 code
	symbols      map[string]string // currency code → symbol as this locale's readers know it
	discount     func(percentOff int) string
	decimalPoint string
	groupSep     string
}

var englishMonths = [...]string{"January", "February", "March", "April", "May", "June", "July",
	"August", "September", "October", "November", "December"}

func chineseDate(t time.Time) string {
	return fmt.Sprintf("%d年%d月%d日", t.Year(), int(t.Month()), t.Day())
}

// chineseGreeting addresses a Chinese reader by full name, family name first
// ("王芳，您好！"), the polite form in letters; with no name, just "您好！".
func chineseGreeting(first, last string) string {
	name := strings.TrimSpace(last + first)
	if isLatin(first + last) {
		name = strings.TrimSpace(first + " " + last)
	}
	if name == "" {
		return "您好！"
	}
	return name + "，您好！"
}

// chineseDiscount writes "20% off" the way Chinese shoppers read it: 8折 is
// "pay 80%", 85折 is "pay 85%".
func chineseDiscount(off int) string {
	pay := 100 - off
	if pay%10 == 0 {
		return fmt.Sprintf("%d折", pay/10)
	}
	return fmt.Sprintf("%d折", pay)
}

var styles = map[string]style{
	"en": {
		greet: func(first, _ string) string {
			if first == "" {
				return "Hi there,"
			}
			return "Hi " + first + ","
		},
		date: func(t time.Time) string {
			return fmt.Sprintf("%s %d, %d", englishMonths[t.Month()-1], t.Day(), t.Year())
		},
		dateTime: func(t time.Time) string {
			return fmt.Sprintf("%s %d, %d, %s", englishMonths[t.Month()-1], t.Day(), t.Year(), t.Format("3:04 PM"))
		},
		currency:     "USD",
		symbols:      map[string]string{"USD": "$", "CNY": "CN¥", "TWD": "NT$", "HKD": "HK$", "EUR": "€", "GBP": "£", "JPY": "¥"},
		discount:     func(off int) string { return fmt.Sprintf("%d%% off", off) },
		decimalPoint: ".",
		groupSep:     ",",
	},
	zhSimplified:  chineseStyle("CNY", map[string]string{"CNY": "¥", "USD": "US$", "TWD": "NT$", "HKD": "HK$", "EUR": "€", "GBP": "£", "JPY": "JP¥"}),
	zhTraditional: chineseStyle("TWD", map[string]string{"TWD": "NT$", "CNY": "CN¥", "USD": "US$", "HKD": "HK$", "EUR": "€", "GBP": "£", "JPY": "¥"}),
}

// chineseStyle is the conventions both Chinese scripts share; they differ
// in the home currency and in how the other currencies are marked.
func chineseStyle(currency string, symbols map[string]string) style {
	return style{
		greet:        chineseGreeting,
		date:         chineseDate,
		dateTime:     func(t time.Time) string { return chineseDate(t) + " " + t.Format("15:04") },
		currency:     currency,
		symbols:      symbols,
		discount:     chineseDiscount,
		decimalPoint: ".", groupSep: ",",
	}
}

// styleFor returns the conventions for a canonical locale.
func styleFor(locale string) style {
	if s, ok := styles[locale]; ok {
		return s
	}
	if s, ok := styles[languageOf(locale)]; ok {
		return s
	}
	return styles["en"]
}

// minorDigits is how many decimals each currency is shown with. The New
// Taiwan dollar is shown in whole dollars, as prices in Taiwan are.
var minorDigits = map[string]int{"JPY": 0, "KRW": 0, "TWD": 0, "VND": 0}

// funcsFor returns the template functions for one locale. They are pure:
// anything that depends on the recipient is a method of the data instead.
func funcsFor(locale string) template.FuncMap {
	st := styleFor(locale)
	return template.FuncMap{
		// date formats a time.Time or an RFC 3339 / YYYY-MM-DD string, in
		// the given IANA zone when one is passed.
		"date": func(v any, zone ...string) (string, error) {
			t, err := toTime(v, zone)
			if err != nil {
				return "", fmt.Errorf("date: %w", err)
			}
			return st.date(t), nil
		},
		"datetime": func(v any, zone ...string) (string, error) {
			t, err := toTime(v, zone)
			if err != nil {
				return "", fmt.Errorf("datetime: %w", err)
			}
			return st.dateTime(t), nil
		},
		// money formats an amount in the locale's currency, or in the ISO
		// 4217 code given as the second argument.
		"money": func(amount any, currency ...string) (string, error) {
			f, err := toFloat(amount)
			if err != nil {
				return "", fmt.Errorf("money: %w", err)
			}
			code := st.currency
			if len(currency) > 0 && currency[0] != "" {
				code = strings.ToUpper(currency[0])
			}
			return formatMoney(st, f, code), nil
		},
		// discount renders a percentage off ("20% off", "8折").
		"discount": func(percent any) (string, error) {
			f, err := toFloat(percent)
			if err != nil {
				return "", fmt.Errorf("discount: %w", err)
			}
			if f <= 0 || f >= 100 || f != math.Trunc(f) {
				return "", fmt.Errorf("discount: %v is not a whole percentage between 1 and 99", percent)
			}
			return st.discount(int(f)), nil
		},
		// coupon shows a code the way customers type it: trimmed, upper case.
		"coupon": func(v any) (string, error) {
			s, _ := v.(string)
			s = strings.ToUpper(strings.TrimSpace(s))
			if s == "" {
				return "", fmt.Errorf("coupon: code is empty")
			}
			return s, nil
		},
		// dict builds a map for a partial that takes several values:
		// {{template "button" (dict "url" .Company.Website "label" "Visit")}}.
		"dict": func(kv ...any) (map[string]any, error) {
			if len(kv)%2 != 0 {
				return nil, fmt.Errorf("dict: odd number of arguments")
			}
			m := make(map[string]any, len(kv)/2)
			for i := 0; i < len(kv); i += 2 {
				k, ok := kv[i].(string)
				if !ok {
					return nil, fmt.Errorf("dict: key %v is not a string", kv[i])
				}
				m[k] = kv[i+1]
			}
			return m, nil
		},
		// seq lists the integers from..to, for score scales.
		"seq": func(from, to int) []int {
			var out []int
			for i := from; i <= to; i++ {
				out = append(out, i)
			}
			return out
		},
		// fail stops rendering with a message, for values a template rejects.
		"fail": func(msg string, args ...any) (string, error) {
			return "", fmt.Errorf(msg, args...)
		},
	}
}

func formatMoney(st style, amount float64, code string) string {
	digits, ok := minorDigits[code]
	if !ok {
		digits = 2
	}
	sign := ""
	if amount < 0 {
		sign, amount = "-", -amount
	}
	// Round half away from zero, as prices are read (NT$1,234.5 → NT$1,235).
	scale := math.Pow10(digits)
	s := strconv.FormatFloat(math.Round(amount*scale)/scale, 'f', digits, 64)
	whole, frac, _ := strings.Cut(s, ".")
	var b strings.Builder
	for i, r := range whole {
		if i > 0 && (len(whole)-i)%3 == 0 {
			b.WriteString(st.groupSep)
		}
		b.WriteRune(r)
	}
	if frac != "" {
		b.WriteString(st.decimalPoint + frac)
	}
	if sym, ok := st.symbols[code]; ok {
		return sign + sym + b.String()
	}
	return sign + code + " " + b.String()
}

func toTime(v any, zone []string) (time.Time, error) {
	var t time.Time
	switch x := v.(type) {
	case time.Time:
		t = x
	case *time.Time:
		if x == nil {
			return t, fmt.Errorf("no time given")
		}
		t = *x
	case string:
		var err error
		if t, err = time.Parse(time.RFC3339, x); err != nil {
			if t, err = time.Parse(time.DateOnly, x); err != nil {
				return t, fmt.Errorf("%q is not a time (RFC 3339 or YYYY-MM-DD)", x)
			}
		}
	default:
		return t, fmt.Errorf("%v (%T) is not a time", v, v)
	}
	if len(zone) > 0 && zone[0] != "" {
		loc, err := time.LoadLocation(zone[0])
		if err != nil {
			return t, fmt.Errorf("%q is not a time zone", zone[0])
		}
		t = t.In(loc)
	}
	return t, nil
}

func toFloat(v any) (float64, error) {
	switch x := v.(type) {
	case float64:
		return x, nil
	case float32:
		return float64(x), nil
	case int:
		return float64(x), nil
	case int32:
		return float64(x), nil
	case int64:
		return float64(x), nil
	case json.Number:
		return x.Float64()
	case string:
		f, err := strconv.ParseFloat(strings.TrimSpace(x), 64)
		if err != nil {
			return 0, fmt.Errorf("%q is not a number", x)
		}
		return f, nil
	}
	return 0, fmt.Errorf("%v (%T) is not a number", v, v)
}

func isLatin(s string) bool {
	for _, r := range s {
		if r > 0x24F {
			return false
		}
	}
	return true
}
