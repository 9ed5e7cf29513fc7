package importer_test

import (
	"fmt"
	"math/rand/v2"
	"strings"
)

// generateCSV builds n realistic customer rows (every column filled, varied
// zones, locales, phone regions and birthdays) with external IDs G-00001....
func generateCSV(n int, seed uint64) string {
	r := rand.New(rand.NewPCG(seed, seed))
	firsts := []string{"Ann", "Bo", "Chen", "Dana", "Eli", "Fang", "Grace", "Hiro", "Ines", "Jun", "Mei", "Wei"}
	lasts := []string{"Lee", "Wang", "Smith", "Zhang", "Garcia", "Liu", "Chen", "Tanaka", "Huang", "Lin"}
	places := []struct {
		zone, locale, country, region, city, phone string
		span                                       int
	}{
		{"Asia/Shanghai", "zh-CN", "CN", "Shanghai", "Shanghai", "+86138%08d", 1e8},
		{"Asia/Taipei", "zh-TW", "TW", "Taipei", "Taipei", "+8869%08d", 1e8},
		{"America/New_York", "en", "US", "NY", "New York", "+1212555%04d", 1e4},
		{"Europe/London", "en-GB", "GB", "England", "London", "+4420794%05d", 1e5},
		{"Asia/Singapore", "en-SG", "SG", "Singapore", "Singapore", "+6591%06d", 1e6},
		{"Asia/Tokyo", "ja", "JP", "Tokyo", "Tokyo", "+81901%07d", 1e7},
		{"America/Los_Angeles", "en", "US", "CA", "San Francisco", "+1415555%04d", 1e4},
	}
	genders := []string{"female", "male", "nonbinary", ""}
	var b strings.Builder
	b.WriteString("external_id,email,phone,first_name,last_name,locale,time_zone,birthday,country,region,city,gender,tags,attributes.plan\n")
	for i := 1; i <= n; i++ {
		p := places[r.IntN(len(places))]
		first, last := firsts[r.IntN(len(firsts))], lasts[r.IntN(len(lasts))]
		phone := fmt.Sprintf(p.phone, r.IntN(p.span))
		fmt.Fprintf(&b, "G-%05d,%s.%s%d@example.com,%s,%s,%s,%s,%s,%d-%02d-%02d,%s,%s,%s,%s,%s,%s\n",
			i, strings.ToLower(first), strings.ToLower(last), i, phone, first, last, p.locale, p.zone,
			1950+r.IntN(55), 1+r.IntN(12), 1+r.IntN(28), p.country, p.region, p.city,
			genders[r.IntN(len(genders))], []string{"vip", "newsletter", "vip;newsletter", ""}[r.IntN(4)],
			[]string{"free", "pro", "gold"}[r.IntN(3)])
	}
	return b.String()
}
