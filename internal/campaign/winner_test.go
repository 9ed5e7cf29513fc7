package campaign

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/tidingsdev/tidings/internal/store"
)

const abWinner = `name: spring-ab
audience: {segment: all}
trigger: {once: {at: "2027-04-01 09:00", zone: Europe/Berlin}}
goal: {event: purchase, within: 7d}
steps:
  - send:
      id: subject
      template: winback_offer
      variants:
        test: 30
        winner_after: 4h
        metric: click
        min_sent: 50
        arms:
          - {name: a, percent: 50, vars: {discount_percent: 10}}
          - {name: b, percent: 50, vars: {discount_percent: 15}}
  - wait: {duration: 3d}
  - send: {id: reminder, template: tips}
`

func TestParseVariantsThatPickAWinner(t *testing.T) {
	s, err := Parse([]byte(abWinner), "ab.yaml")
	if err != nil {
		t.Fatal(err)
	}
	st := s.WinnerStep()
	if st == nil || st.ID != "subject" {
		t.Fatalf("winner step %+v, want subject", st)
	}
	w := st.Send.Winner
	if *w != (Winner{After: 4 * time.Hour, Metric: MetricClick, Test: 30, MinSent: 50}) {
		t.Errorf("winner %+v", w)
	}
	if len(st.Send.Variants) != 2 || st.Send.Variants[1].Name != "b" || st.Send.Variants[1].Template != "winback_offer" {
		t.Errorf("arms %+v, want a and b with the send's template", st.Send.Variants)
	}
	// Defaults: a 20% test and 100 messages per variant.
	short := strings.NewReplacer("        test: 30\n", "", "        min_sent: 50\n", "").Replace(abWinner)
	s, err = Parse([]byte(short), "ab.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if w := s.WinnerStep().Send.Winner; w.Test != DefaultWinnerTest || w.MinSent != DefaultWinnerMinSent {
		t.Errorf("defaults %+v", w)
	}
	if (&Spec{Steps: s.Steps[1:]}).WinnerStep() != nil {
		t.Error("a campaign without a winner step reports one")
	}
}

func TestParseWinnerErrors(t *testing.T) {
	for _, tc := range []struct {
		name, old, new, want string
	}{
		{"window too short", "winner_after: 4h", "winner_after: 30m", "ab.yaml:11:23: steps[0].send.variants.winner_after: 30m: expected a test window from 1h to 30d"},
		{"unknown metric", "metric: click", "metric: opens", `ab.yaml:12:17: steps[0].send.variants.metric: "opens": expected click`},
		{"test share", "test: 30", "test: 95", "ab.yaml:10:15: steps[0].send.variants.test: 95: expected a whole percentage 1-90"},
		{"min_sent", "min_sent: 50", "min_sent: 0", "ab.yaml:13:19: steps[0].send.variants.min_sent: 0: expected at least 1"},
		{"no metric", "        metric: click\n", "", "ab.yaml:10:9: steps[0].send.variants.metric: is required when variants pick a winner"},
		{"unknown key", "min_sent: 50", "minimum: 50", "ab.yaml:13:9: steps[0].send.variants.minimum: unknown key; expected one of test, winner_after, metric, min_sent, arms"},
		{"goal metric without goal", "goal: {event: purchase, within: 7d}\n", "", "ab.yaml:9:9: steps[0].send.variants.metric: metric goal needs the campaign's goal"},
		{"event trigger", `once: {at: "2027-04-01 09:00", zone: Europe/Berlin}`, "event: {type: signup}", "ab.yaml:10:9: steps[0].send.variants: an automatic winner needs the audience to start together"},
		{"local once", `zone: Europe/Berlin}`, `local: true}`, "ab.yaml:10:9: steps[0].send.variants: an automatic winner needs the audience to start together; once with local: true"},
		{"not the first step", "steps:\n", "steps:\n  - tag: tested\n", "ab.yaml:11:9: steps[1].send.variants: an automatic winner goes on the campaign's first step"},
		{"a second split", "  - send: {id: reminder, template: tips}\n",
			"  - send: {id: reminder, template: tips, variants: [{name: a, percent: 50}, {name: b, percent: 50}]}\n",
			"ab.yaml:18:52: steps[2].send.variants: a campaign that picks an A/B winner splits at its first step only"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src := abWinner
			if tc.name == "goal metric without goal" {
				src = strings.Replace(src, "metric: click", "metric: goal", 1)
			}
			src = strings.Replace(src, tc.old, tc.new, 1)
			_, err := Parse([]byte(src), "ab.yaml")
			var es Errors
			if !errors.As(err, &es) {
				t.Fatalf("Parse = %v, want Errors", err)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("errors:\n%v\nwant one containing %q", err, tc.want)
			}
		})
	}
}

// TestChooseWinner works the rule out on numbers a marketer can check by
// hand.
func TestChooseWinner(t *testing.T) {
	for _, tc := range []struct {
		name       string
		tallies    []store.VariantTally
		min        int
		want, rule string
	}{
		// a: 12 of 120 = 10%, b: 18 of 120 = 15%: b.
		{"best rate", []store.VariantTally{tl("a", 120, 12), tl("b", 120, 18)}, 100, "b", RuleBestRate},
		// Unequal sends: a 10/100 = 10% beats b 11/125 = 8.8%.
		{"rate, not count", []store.VariantTally{tl("a", 100, 10), tl("b", 125, 11)}, 100, "a", RuleBestRate},
		// b 9/120 and c 12/160 are both 7.5%, above a's 5%: b, listed first of the two.
		{"tie", []store.VariantTally{tl("a", 100, 5), tl("b", 120, 9), tl("c", 160, 12)}, 100, "b", RuleTie},
		// Nobody clicked: all tie at 0, the first listed wins.
		{"no hits", []store.VariantTally{tl("a", 150, 0), tl("b", 150, 0)}, 100, "a", RuleTie},
		// b has only 99 messages: the numbers cannot tell, a (listed first) wins.
		{"not enough data", []store.VariantTally{tl("a", 130, 2), tl("b", 99, 40)}, 100, "a", RuleNotEnoughData},
		{"nothing sent", []store.VariantTally{tl("a", 0, 0), tl("b", 0, 0)}, 1, "a", RuleNotEnoughData},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w, rule := ChooseWinner(tc.tallies, tc.min)
			if w != tc.want || rule != tc.rule {
				t.Errorf("winner %s by %s, want %s by %s", w, rule, tc.want, tc.rule)
			}
		})
	}
}

func TestTestShareIsStableAndAboutItsPercent(t *testing.T) {
	in := 0
	for i := range 10000 {
		id := strings.Repeat("0", 4) + string(rune('a'+i%26)) + strings.Repeat("x", i%7) + time.Duration(i).String()
		if InTest("spring-ab", id, 20) {
			in++
		}
		if InTest("spring-ab", id, 20) != InTest("spring-ab", id, 20) {
			t.Fatal("the test share changed between calls")
		}
	}
	if in < 1800 || in > 2200 {
		t.Errorf("%d of 10000 in a 20%% test share", in)
	}
}

func tl(variant string, sent, hits int) store.VariantTally {
	return store.VariantTally{Variant: variant, Sent: sent, Hits: hits}
}
