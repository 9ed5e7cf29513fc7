package templates

import "unicode/utf16"

// SMS encodings reported by SMSSegments and stored in the ledger.
const (
	GSM7 = "GSM-7"
	UCS2 = "UCS-2"
)

// gsmBasic is the GSM 03.38 default alphabet: each character costs one
// septet. gsmExtension characters are sent as ESC + character and cost two.
const (
	gsmBasic = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?" +
		"¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
	gsmExtension = "\f^{}\\[~]|€"
)

var gsmCost = func() map[rune]int {
	m := make(map[rune]int, len(gsmBasic)+len(gsmExtension))
	for _, r := range gsmBasic {
		m[r] = 1
	}
	for _, r := range gsmExtension {
		m[r] = 2
	}
	return m
}()

// SMSSegments says how many messages a carrier bills for body and in which
// encoding it travels. A body made only of GSM-7 characters fits 160 septets
// in one message or 153 per part when concatenated (extension characters
// such as € or { count two, and never straddle parts). Anything else, such as
// Chinese or an emoji, forces UCS-2: 70 UTF-16 code units alone or 67 per
// part, a surrogate pair never split. An empty body is zero segments.
func SMSSegments(body string) (segments int, encoding string) {
	if body == "" {
		return 0, GSM7
	}
	costs := make([]int, 0, len(body))
	encoding = GSM7
	for _, r := range body {
		c, ok := gsmCost[r]
		if !ok {
			encoding = UCS2
			break
		}
		costs = append(costs, c)
	}
	single, part := 160, 153
	if encoding == UCS2 {
		single, part = 70, 67
		costs = costs[:0]
		for _, r := range body {
			n := 1
			if utf16.RuneLen(r) == 2 {
				n = 2
			}
			costs = append(costs, n)
		}
	}
	total := 0
	for _, c := range costs {
		total += c
	}
	if total <= single {
		return 1, encoding
	}
	// Pack units greedily into parts; a unit that does not fit whole starts
	// the next part, as handsets and carriers do.
	segments, used := 1, 0
	for _, c := range costs {
		if used+c > part {
			segments++
			used = 0
		}
		used += c
	}
	return segments, encoding
}
