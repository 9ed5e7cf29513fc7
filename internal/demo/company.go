// Package demo is the company `tidings dev --demo` runs: about a thousand
// customers across time zones and the locales en, zh-CN and zh-TW, with
// purchase histories, birthdays, lapsed buyers and recent orders, loaded
// idempotently, and a scenario that sends sign-ups and deliveries through
// the event path and starts the sweeps, so a newcomer watches welcome mails,
// birthday greetings, win-back offers and surveys arrive within minutes.
//
// The company is generated from a seed and the hour it was first loaded
// (its anchor, kept on every demo customer), so loading it again yields
// exactly the same rows and changes nothing.
package demo

import (
	"fmt"
	"maps"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"time"
	_ "time/tzdata" // the demo's zones resolve on any machine

	"github.com/tidingsdev/tidings/internal/store"
	"github.com/tidingsdev/tidings/workflows"
)

// Defaults of the generated company.
const (
	DefaultCustomers = 1000
	DefaultSeed      = 20240601
	// Tag is on every demo customer.
	Tag = "demo"
	// AnchorAttribute holds the hour the company was first loaded (RFC 3339);
	// every date in it is relative to that hour.
	AnchorAttribute = "demo_loaded_at"
)

// Cohorts: what a customer's history makes them, and what the scenario
// does with them.
const (
	// CohortNew customers registered but never signed up nor bought; the
	// scenario signs a few of them up on each start.
	CohortNew = "new"
	// CohortActive customers bought within the last two months.
	CohortActive = "active"
	// CohortRecent customers ordered in the last few days; the scenario
	// delivers some of their orders.
	CohortRecent = "recent"
	// CohortLapsed customers last bought months ago; the win-back sweep
	// finds them.
	CohortLapsed = "lapsed"
)

// Customer is one generated customer with their history.
type Customer struct {
	Input  store.CustomerInput
	Cohort string
	// BirthdayToday is set for the few placed, at the anchor, in a zone
	// where it is their birthday and daytime.
	BirthdayToday bool
	Orders        []Order
	// SMSMarketing customers granted marketing SMS, EmailMarketing ones
	// marketing email (at checkout or with the newsletter: the consent the
	// example segments ask for); EmailOptOut ones withdrew all email (they
	// receive nothing by email).
	SMSMarketing   bool
	EmailMarketing bool
	EmailOptOut    bool
	// Views are products the customer looked at in the shop lately.
	Views []View
}

// View is one product page the customer opened.
type View struct {
	ID      string
	At      time.Time
	Product string
}

// Order is one past purchase.
type Order struct {
	ID       string
	At       time.Time
	Amount   float64
	Currency string
	Items    int
}

// Company is the generated demo company.
type Company struct {
	Anchor    time.Time
	Customers []Customer
}

// place is where customers live: their zone, country and city, and the
// locales spoken there with their weights.
type place struct {
	zone, country, region, city string
	locales                     map[string]int
}

var places = []place{
	{"America/New_York", "US", "NY", "New York", map[string]int{"en": 10, "zh-CN": 2, "zh-TW": 1}},
	{"America/Chicago", "US", "IL", "Chicago", map[string]int{"en": 6}},
	{"America/Denver", "US", "CO", "Denver", map[string]int{"en": 3}},
	{"America/Los_Angeles", "US", "CA", "San Francisco", map[string]int{"en": 8, "zh-CN": 3, "zh-TW": 3}},
	{"America/Toronto", "CA", "ON", "Toronto", map[string]int{"en": 4, "zh-CN": 2, "zh-TW": 1}},
	{"America/Vancouver", "CA", "BC", "Vancouver", map[string]int{"en": 3, "zh-CN": 2, "zh-TW": 2}},
	{"Europe/London", "GB", "ENG", "London", map[string]int{"en": 8, "zh-CN": 1}},
	{"Europe/Dublin", "IE", "", "Dublin", map[string]int{"en": 2}},
	{"Australia/Sydney", "AU", "NSW", "Sydney", map[string]int{"en": 5, "zh-CN": 2}},
	{"Australia/Melbourne", "AU", "VIC", "Melbourne", map[string]int{"en": 4, "zh-CN": 1}},
	{"Pacific/Auckland", "NZ", "", "Auckland", map[string]int{"en": 2}},
	{"Asia/Singapore", "SG", "", "Singapore", map[string]int{"en": 3, "zh-CN": 3}},
	{"Asia/Shanghai", "CN", "SH", "Shanghai", map[string]int{"zh-CN": 18}},
	{"Asia/Shanghai", "CN", "BJ", "Beijing", map[string]int{"zh-CN": 12}},
	{"Asia/Shanghai", "CN", "GD", "Shenzhen", map[string]int{"zh-CN": 8}},
	{"Asia/Hong_Kong", "HK", "", "Hong Kong", map[string]int{"zh-TW": 6, "en": 2}},
	{"Asia/Taipei", "TW", "", "Taipei", map[string]int{"zh-TW": 14}},
	{"Asia/Taipei", "TW", "", "Kaohsiung", map[string]int{"zh-TW": 5}},
}

// name is a given or family name with its romanisation for the email
// address.
type name struct{ native, latin string }

var (
	enFirst = []string{"Olivia", "Liam", "Emma", "Noah", "Ava", "Ethan", "Sophia", "Mason", "Isabella", "Lucas",
		"Mia", "James", "Amelia", "Henry", "Harper", "Jack", "Ella", "Owen", "Grace", "Leo", "Chloe", "Samuel",
		"Zoe", "Daniel", "Ruby", "Oscar", "Nora", "Theo", "Hazel", "Isaac"}
	enLast = []string{"Smith", "Johnson", "Williams", "Brown", "Jones", "Miller", "Davis", "Wilson", "Taylor",
		"Clark", "Walker", "Hall", "Young", "King", "Wright", "Scott", "Green", "Baker", "Adams", "Nelson",
		"Carter", "Mitchell", "Turner", "Parker", "Collins", "Murphy", "Bennett", "Hughes", "Price", "Ward"}
	zhCNFamily = []name{{"王", "wang"}, {"李", "li"}, {"张", "zhang"}, {"刘", "liu"}, {"陈", "chen"}, {"杨", "yang"},
		{"赵", "zhao"}, {"黄", "huang"}, {"周", "zhou"}, {"吴", "wu"}, {"徐", "xu"}, {"孙", "sun"}, {"马", "ma"},
		{"朱", "zhu"}, {"胡", "hu"}, {"郭", "guo"}, {"何", "he"}, {"林", "lin"}}
	zhCNGiven = []name{{"伟", "wei"}, {"芳", "fang"}, {"娜", "na"}, {"秀英", "xiuying"}, {"敏", "min"}, {"静", "jing"},
		{"丽", "li"}, {"强", "qiang"}, {"磊", "lei"}, {"军", "jun"}, {"洋", "yang"}, {"勇", "yong"}, {"艳", "yan"},
		{"杰", "jie"}, {"娟", "juan"}, {"涛", "tao"}, {"明", "ming"}, {"超", "chao"}, {"秀兰", "xiulan"}, {"霞", "xia"},
		{"平", "ping"}, {"刚", "gang"}, {"桂英", "guiying"}, {"美玲", "meiling"}, {"子涵", "zihan"}, {"浩然", "haoran"}}
	zhTWFamily = []name{{"陳", "chen"}, {"林", "lin"}, {"黃", "huang"}, {"張", "chang"}, {"李", "lee"}, {"王", "wang"},
		{"吳", "wu"}, {"劉", "liu"}, {"蔡", "tsai"}, {"楊", "yang"}, {"許", "hsu"}, {"鄭", "cheng"}, {"謝", "hsieh"},
		{"郭", "kuo"}, {"洪", "hung"}, {"曾", "tseng"}}
	zhTWGiven = []name{{"怡君", "yichun"}, {"志明", "chihming"}, {"雅婷", "yating"}, {"俊傑", "chunchieh"},
		{"淑芬", "shufen"}, {"家豪", "chiahao"}, {"佳穎", "chiaying"}, {"冠宇", "kuanyu"}, {"詩涵", "shihhan"},
		{"宗翰", "tsunghan"}, {"欣怡", "hsinyi"}, {"承恩", "chengen"}, {"美玲", "meiling"}, {"建宏", "chienhung"},
		{"惠雯", "huiwen"}, {"柏翰", "pohan"}}
	// Only reserved example domains: the demo must never mail a real person,
	// even when pointed at a real SMTP server.
	domains = []string{"example.com", "example.net", "example.org"}
	// Area codes whose 555-0100..0199 numbers are reserved for fiction, as
	// they are in every North American area code.
	usAreaCodes = []string{"212", "312", "415", "206", "617", "303", "713", "404", "646", "510"}
	caAreaCodes = []string{"416", "647", "604", "778"}
	// The mobile numbers Australia's regulator set aside for fiction.
	auMobiles = []string{"570006", "570156", "570157", "570158", "570159", "570110", "570313", "570737",
		"571266", "571491", "571804", "572549", "572665", "572983", "573770", "573087", "574118", "574632",
		"575254", "575789", "576398", "576801", "577426", "577644", "578957", "578148", "578888", "579212",
		"579760", "579455"}
	categories = []string{"tea", "teaware", "gifts", "snacks", "subscriptions"}
	products   = map[string][]string{
		"tea":           {"Dragon Well green tea", "Tieguanyin oolong", "Keemun black tea", "Aged Pu'er cake"},
		"teaware":       {"Yixing clay teapot", "Celadon tea cups", "Bamboo tea tray"},
		"gifts":         {"New Year gift box", "Tea tasting set"},
		"snacks":        {"Osmanthus cakes", "Sesame brittle"},
		"subscriptions": {"Monthly tea club", "Office tea subscription"},
	}
	plans = []string{"free", "silver", "gold"}
)

// currency is what customers of a locale pay in, and a typical basket.
func currency(locale string) (string, float64) {
	switch locale {
	case "zh-CN":
		return "CNY", 260
	case "zh-TW":
		return "TWD", 1100
	}
	return "USD", 45
}

// Generate builds the company of n customers (DefaultCustomers when n <= 0)
// from seed, every date relative to anchor (truncated to the hour). The same
// arguments always give the same company.
func Generate(n int, seed uint64, anchor time.Time) Company {
	if n <= 0 {
		n = DefaultCustomers
	}
	anchor = anchor.UTC().Truncate(time.Hour)
	rng := rand.New(rand.NewPCG(seed, uint64(n)))
	zone := zones{}
	var weighted []struct {
		p      place
		locale string
	}
	for _, p := range places {
		for _, loc := range slices.Sorted(maps.Keys(p.locales)) {
			for range p.locales[loc] {
				weighted = append(weighted, struct {
					p      place
					locale string
				}{p, loc})
			}
		}
	}
	// Zones where the anchor hour is mid-morning to late afternoon: the
	// customers whose birthday it is are placed there, so their greeting is
	// due at once rather than in quiet hours.
	var daytime []int
	for i, w := range weighted {
		if h := anchor.In(zone.get(w.p.zone)).Hour(); h >= 10 && h < 18 {
			daytime = append(daytime, i)
		}
	}

	c := Company{Anchor: anchor, Customers: make([]Customer, 0, n)}
	birthdaysToday := max(n/50, 1)
	for i := range n {
		var cu Customer
		pick := weighted[rng.IntN(len(weighted))]
		if i < birthdaysToday && len(daytime) > 0 {
			pick = weighted[daytime[rng.IntN(len(daytime))]]
			cu.BirthdayToday = true
		}
		cu.Input = person(rng, i+1, pick.p, pick.locale)
		category := categories[rng.IntN(len(categories))]
		cu.Input.Attributes = map[string]any{
			AnchorAttribute:      anchor.Format(time.RFC3339),
			"favourite_category": category,
		}
		if category == "subscriptions" {
			// Offices on a tea subscription: their plan and how many
			// people drink it.
			cu.Input.Attributes["plan"] = plans[rng.IntN(len(plans))]
			cu.Input.Attributes["seats"] = 1 + rng.IntN(40)
		}
		loc := zone.get(pick.p.zone)
		switch {
		case cu.BirthdayToday:
			y, m, d := anchor.In(loc).Date()
			cu.Input.Birthday = ptr(time.Date(y-20-rng.IntN(40), m, d, 0, 0, 0, 0, time.UTC).Format(time.DateOnly))
		case rng.IntN(100) < 85:
			day := time.Date(1955+rng.IntN(50), 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, rng.IntN(365))
			cu.Input.Birthday = ptr(day.Format(time.DateOnly))
		}

		r := rng.IntN(100)
		switch {
		case r < 6:
			cu.Cohort = CohortNew
		case r < 20:
			cu.Cohort = CohortLapsed
		case r < 36:
			cu.Cohort = CohortRecent
		default:
			cu.Cohort = CohortActive
		}
		cu.Orders = orders(rng, cu.Input.ExternalID, *cu.Input.Locale, cu.Cohort, anchor)
		cu.Input.Tags = tags(rng, cu)
		cu.SMSMarketing = cu.Input.Phone != nil && rng.IntN(100) < 65
		cu.EmailOptOut = cu.Cohort != CohortNew && rng.IntN(100) < 3
		cu.EmailMarketing = !cu.EmailOptOut && (slices.Contains(cu.Input.Tags, "newsletter") || rng.IntN(100) < 50)
		cu.Views = views(rng, cu, category, anchor)
		c.Customers = append(c.Customers, cu)
	}
	return c
}

// person is one customer's profile, named in the customer's locale.
func person(rng *rand.Rand, i int, p place, locale string) store.CustomerInput {
	ext := fmt.Sprintf("demo-%04d", i)
	var first, last, local string
	switch locale {
	case "zh-CN", "zh-TW":
		family, given := zhCNFamily, zhCNGiven
		if locale == "zh-TW" {
			family, given = zhTWFamily, zhTWGiven
		}
		f, g := family[rng.IntN(len(family))], given[rng.IntN(len(given))]
		first, last, local = g.native, f.native, g.latin+"."+f.latin
	default:
		first, last = enFirst[rng.IntN(len(enFirst))], enLast[rng.IntN(len(enLast))]
		local = first + "." + last
	}
	in := store.CustomerInput{
		ExternalID: ext,
		Email:      ptr(fmt.Sprintf("%s.%04d@%s", strings.ToLower(local), i, domains[rng.IntN(len(domains))])),
		FirstName:  ptr(first),
		LastName:   ptr(last),
		Locale:     ptr(locale),
		TimeZone:   ptr(p.zone),
		Country:    ptr(p.country),
		City:       ptr(p.city),
		Gender:     ptr([]string{"female", "male", "female", "male", "unknown"}[rng.IntN(5)]),
	}
	if p.region != "" {
		in.Region = ptr(p.region)
	}
	if rng.IntN(100) < 75 {
		if n := phone(rng, p.country, i); n != "" {
			in.Phone = ptr(n)
		}
	}
	return in
}

// phone is a number reserved for fiction in the customer's country, so the
// demo never texts a real person even through a real SMS provider: 555-0100
// to 0199 in any North American area code, Ofcom's 020 7946 0000 to 0999 in
// the UK, the regulator's fictional mobiles in Australia. Countries that
// reserve none get no number ("").
func phone(rng *rand.Rand, country string, i int) string {
	switch country {
	case "US":
		return fmt.Sprintf("+1%s55501%02d", usAreaCodes[rng.IntN(len(usAreaCodes))], rng.IntN(100))
	case "CA":
		return fmt.Sprintf("+1%s55501%02d", caAreaCodes[rng.IntN(len(caAreaCodes))], rng.IntN(100))
	case "GB":
		return fmt.Sprintf("+442079460%03d", i%1000)
	case "AU":
		return "+61491" + auMobiles[i%len(auMobiles)]
	}
	return ""
}

// views are a few product pages opened in the last two weeks by a quarter
// of the customers who have not bought in a month: the browsers a nudge is
// for (examples/segments/engaged-browsers.yaml).
func views(rng *rand.Rand, c Customer, category string, anchor time.Time) []View {
	if n := len(c.Orders); n > 0 && anchor.Sub(c.Orders[n-1].At) < 30*24*time.Hour {
		return nil
	}
	if rng.IntN(100) >= 25 {
		return nil
	}
	out := make([]View, 3+rng.IntN(4))
	for k := range out {
		ps := products[category]
		out[k] = View{
			ID:      fmt.Sprintf("%s-v%d", c.Input.ExternalID, k+1),
			At:      anchor.Add(-time.Duration(1+rng.IntN(13*24*60)) * time.Minute),
			Product: ps[rng.IntN(len(ps))],
		}
	}
	slices.SortFunc(out, func(a, b View) int { return a.At.Compare(b.At) })
	return out
}

// orders is a purchase history that puts the customer in their cohort: the
// last order's age decides it (the win-back sweep calls a customer lapsed
// after 60 days without one).
func orders(rng *rand.Rand, ext, locale, cohort string, anchor time.Time) []Order {
	var count, lastDaysAgo int
	switch cohort {
	case CohortNew:
		return nil
	case CohortLapsed:
		count, lastDaysAgo = 1+rng.IntN(4), 75+rng.IntN(300)
	case CohortRecent:
		count, lastDaysAgo = 1+rng.IntN(5), 1+rng.IntN(5)
	default:
		count, lastDaysAgo = 1+rng.IntN(6), 8+rng.IntN(45)
	}
	cur, basket := currency(locale)
	out := make([]Order, count)
	at := anchor.Add(-time.Duration(lastDaysAgo)*24*time.Hour - time.Duration(rng.IntN(12*60))*time.Minute)
	for k := count - 1; k >= 0; k-- {
		amount := basket * (0.4 + rng.Float64()*1.8)
		if cur == "USD" {
			amount = math.Round(amount*100) / 100
		} else {
			amount = math.Round(amount)
		}
		out[k] = Order{ID: fmt.Sprintf("%s-o%d", ext, k+1), At: at, Amount: amount, Currency: cur, Items: 1 + rng.IntN(4)}
		at = at.Add(-time.Duration(20+rng.IntN(90)) * 24 * time.Hour)
	}
	return out
}

// tags marks the demo customers, the big spenders and newsletter readers.
func tags(rng *rand.Rand, c Customer) []string {
	out := []string{Tag}
	total := 0.0
	for _, o := range c.Orders {
		total += o.Amount
	}
	if _, basket := currency(*c.Input.Locale); total > basket*8 {
		out = append(out, "vip")
	}
	if rng.IntN(100) < 40 {
		out = append(out, "newsletter")
	}
	return out
}

// EventProductViewed is the event a product page view is recorded as.
const EventProductViewed = "product_viewed"

// Events are the purchase history and the product views as events, oldest
// order of each customer first; their IDs make recording them again a no-op.
func (c Customer) Events(customerID string) []store.EventInput {
	out := make([]store.EventInput, 0, len(c.Orders)+len(c.Views))
	for _, o := range c.Orders {
		out = append(out, store.EventInput{
			EventID: "demo-order-" + o.ID, CustomerID: customerID, Type: workflows.EventPurchase, OccurredAt: o.At,
			Properties: map[string]any{"order_id": o.ID, "amount": o.Amount, "currency": o.Currency, "items": o.Items},
		})
	}
	for _, v := range c.Views {
		out = append(out, store.EventInput{
			EventID: "demo-view-" + v.ID, CustomerID: customerID, Type: EventProductViewed, OccurredAt: v.At,
			Properties: map[string]any{"product": v.Product},
		})
	}
	return out
}

func ptr(s string) *string { return &s }

// zones caches the demo's time zones: time.LoadLocation parses the zone
// data on every call, and generating the company asks a thousand times. The
// zones are embedded (time/tzdata), so loading cannot fail.
type zones map[string]*time.Location

func (z zones) get(name string) *time.Location {
	if loc, ok := z[name]; ok {
		return loc
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		panic(fmt.Sprintf("demo zone %s: %v", name, err))
	}
	z[name] = loc
	return loc
}
