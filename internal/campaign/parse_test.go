package campaign

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tidingsdev/tidings/internal/segment"
	"github.com/tidingsdev/tidings/internal/spec/spectest"
)

const valid = `
name: spring-winback
description: Lapsed customers, with a control group
audience:
  match:
    lifecycle: lapsed
trigger:
  schedule: {cron: "0 10 * * MON", zone: Europe/Berlin}
entry: {again_after: 90d}
goal: {event: purchase, within: 21d}
holdout: 10
steps:
  - send: {id: miss-you, template: winback_miss_you}
  - wait: {duration: 3d}
  - branch:
      if: {segment: vip}
      then:
        - send: {template: winback_offer, vars: {discount_percent: 20}}
      else:
        - wait: {until: "09:30"}
  - wait:
      event: order_delivered
      timeout: 7d
      on_timeout:
        - tag: winback-quiet
`

func TestParseValidCampaign(t *testing.T) {
	s, err := Parse([]byte(valid), "spring.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if s.Name != "spring-winback" || s.Holdout != 10 || s.AgainAfter != 90*24*time.Hour || s.Goal.Within != 21*24*time.Hour {
		t.Errorf("spec %+v", s)
	}
	if s.Trigger.Kind != TriggerSchedule || s.Trigger.Zone != "Europe/Berlin" || s.Audience.Inline == "" {
		t.Errorf("trigger %+v audience %+v", s.Trigger, s.Audience)
	}
	var ids []string
	Walk(s.Steps, func(st *Step) { ids = append(ids, st.ID) })
	if got, want := strings.Join(ids, ","), "miss-you,2,3,3.then.1,3.else.1,4,4.on_timeout.1"; got != want {
		t.Errorf("step ids %s, want %s", got, want)
	}
	if s.Steps[0].Send.Topic != DefaultTopic || s.Steps[0].Send.Channel != DefaultChannel {
		t.Errorf("send defaults %+v", s.Steps[0].Send)
	}
	if w := s.Steps[2].Branch.Else[0].Wait; w.UntilMinute != 9*60+30 {
		t.Errorf("until %+v, want 09:30", w)
	}
	if got := s.EventsHeard(); strings.Join(got, ",") != "purchase,order_delivered" {
		t.Errorf("events heard %v", got)
	}
	if s.Batchable() {
		t.Error("a multi-step campaign is not a batch send")
	}
	if _, err := segment.Parse([]byte(s.Audience.Inline), ""); err != nil {
		t.Errorf("inline audience does not parse back: %v", err)
	}
}

// TestParseErrors is the validation table: each broken file reports the
// line and column of the problem, the path, and what was expected.
func TestParseErrors(t *testing.T) {
	for _, tc := range []struct {
		name, src, want string
	}{
		{"syntax", "name: x\n  bad: [", "test.yaml:2:1: syntax error"},
		{"missing fields", "name: x\n", "test.yaml:1:1: audience: is required"},
		{"unknown top key", base + "colour: red\n", "test.yaml:6:1: colour: unknown key; expected one of name, description, audience"},
		{"bad name", strings.Replace(base, "name: t", "name: Spring Sale", 1), "test.yaml:1:7: name: campaign name \"Spring Sale\": use lower-case"},
		{"bad cron", strings.Replace(base, `schedule: {cron: "0 9 * * *"}`, `schedule: {cron: "0 25 * * *"}`, 1), "test.yaml:3:28: trigger.schedule.cron: \"0 25 * * *\": end of range (25) above maximum (23): 25 (expected minute 0-59, hour 0-23"},
		{"cron both days", strings.Replace(base, `cron: "0 9 * * *"`, `cron: "0 9 13 * 5"`, 1), "test.yaml:3:28: trigger.schedule.cron: \"0 9 13 * 5\" restricts both day-of-month (13) and day-of-week (5)"},
		{"cron that never fires", strings.Replace(base, `cron: "0 9 * * *"`, `cron: "0 9 31 4 *"`, 1), "test.yaml:3:28: trigger.schedule.cron: \"0 9 31 4 *\" never fires: day-of-month 31 never occurs in month 4"},
		{"abbreviated zone", strings.Replace(base, `cron: "0 9 * * *"`, `cron: "0 9 * * *", zone: EST`, 1), "test.yaml:3:47: trigger.schedule.zone: \"EST\" is not an IANA time zone (abbreviations are ambiguous); write America/New_York"},
		{"event type that never arrives", strings.Replace(base, `{schedule: {cron: "0 9 * * *"}}`, `{event: {type: Purchase}}`, 1), "test.yaml:3:25: trigger.event.type: \"Purchase\" must be lower_snake_case"},
		{"goal event type", base + "goal: {event: order-delivered}\n", "test.yaml:6:15: goal.event: \"order-delivered\" must be lower_snake_case"},
		{"send topic", base2("  - send: {template: welcome, topic: Big News}\n"), "test.yaml:5:38: steps[0].send.topic: topic \"Big News\": use lower-case letters"},
		{"bad zone", strings.Replace(base, `cron: "0 9 * * *"`, `cron: "0 9 * * *", zone: Mars/Olympus`, 1), "test.yaml:3:47: trigger.schedule.zone: \"Mars/Olympus\" is not a known IANA time zone"},
		{"two triggers", strings.Replace(base, `{schedule: {cron: "0 9 * * *"}}`, `{schedule: {cron: "0 9 * * *"}, event: {type: signup}}`, 1), "test.yaml:3:42: trigger.event: a campaign has one trigger"},
		{"event without type", strings.Replace(base, `{schedule: {cron: "0 9 * * *"}}`, `{event: {where: {a: 1}}}`, 1), "test.yaml:3:18: trigger.event.type: is required"},
		{"once bad time", strings.Replace(base, `{schedule: {cron: "0 9 * * *"}}`, `{once: {at: "next tuesday"}}`, 1), "test.yaml:3:22: trigger.once.at: \"next tuesday\": expected a time like 2026-04-01 10:00"},
		{"holdout too big", base + "holdout: 80\n", "test.yaml:6:10: holdout: 80: expected a whole percentage 0-50"},
		{"holdout text", base + "holdout: ten\n", "test.yaml:6:10: holdout: expected a whole percentage 0-50, got text \"ten\""},
		{"bad audience field", strings.Replace(base, "{segment: all}", "{match: {colour: red}}", 1), "test.yaml:2:20: audience.match.colour"},
		{"unknown step", base2("  - email: {template: x}\n"), "test.yaml:5:5: steps[0].email: unknown step key; expected one of send, wait, branch"},
		{"two kinds in a step", base2("  - send: {template: welcome}\n    tag: x\n"), "test.yaml:6:5: steps[0].tag: a step does one thing; send is already given at line 5"},
		{"send without template", base2("  - send: {channel: email}\n"), "test.yaml:5:11: steps[0].send.template: is required"},
		{"bad channel", base2("  - send: {template: welcome, channel: fax}\n"), "test.yaml:5:40: steps[0].send.channel: \"fax\": expected email or sms"},
		{"split not 100", base2("  - send:\n      template: welcome\n      variants:\n        - {name: a, percent: 50}\n        - {name: b, percent: 40}\n"),
			"test.yaml:8:9: steps[0].send.variants: percentages add up to 90; expected 100"},
		{"one variant", base2("  - send:\n      template: welcome\n      variants: [{name: a, percent: 100}]\n"), "test.yaml:7:17: steps[0].send.variants: expected a list of at least two variants"},
		{"bad duration", base2("  - wait: {duration: 3 days}\n"), "test.yaml:5:22: steps[0].wait.duration: \"3 days\": expected a duration such as 30m, 12h, 3d, 2w or 6mo"},
		{"bad time of day", base2("  - wait: {until: \"25:00\"}\n"), "test.yaml:5:19: steps[0].wait.until: \"25:00\": expected a local time of day like 09:30"},
		{"event wait without timeout", base2("  - wait: {event: purchase}\n"), "test.yaml:5:12: steps[0].wait.timeout: is required with event"},
		{"two wait forms", base2("  - wait: {duration: 1d, until: \"09:00\"}\n"), "test.yaml:5:11: steps[0].wait: expected only one of duration, until or event"},
		{"branch without if", base2("  - branch: {then: [{tag: x}]}\n"), "test.yaml:5:13: steps[0].branch.if: is required"},
		{"nested error", base2("  - branch:\n      if: {segment: vip}\n      then:\n        - wait: {duration: soon}\n"), "test.yaml:8:28: steps[0].branch.then[0].wait.duration: \"soon\""},
		{"duplicate step id", base2("  - send: {id: a, template: welcome}\n  - send: {id: a, template: tips}\n"), "test.yaml:6:16: steps[1]: step id \"a\" is already used at line 5"},
		{"webhook url", base2("  - webhook: {url: crm.example.com}\n"), "test.yaml:5:20: steps[0].webhook.url: \"crm.example.com\": expected an http:// or https:// URL"},
		{"set value list", base2("  - set: {attribute: a, value: [1]}\n"), "test.yaml:5:32: steps[0].set.value: expected text, a number or true/false, got a list"},
		{"empty steps", base2("") + "", "test.yaml:4:7: steps: expected a list of steps"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(tc.src), "test.yaml")
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

const base = `name: t
audience: {segment: all}
trigger: {schedule: {cron: "0 9 * * *"}}
steps:
  - send: {template: welcome}
`

func base2(steps string) string {
	return strings.Replace(base, "  - send: {template: welcome}\n", steps, 1)
}

func TestParseReportsEveryProblemAtOnce(t *testing.T) {
	_, err := Parse([]byte(`name: x
audience: {segment: all}
trigger: {schedule: {cron: nope}}
holdout: 99
steps:
  - wait: {duration: forever}
`), "f.yaml")
	var es Errors
	if !errors.As(err, &es) || len(es) != 3 {
		t.Fatalf("got %v, want three located errors", err)
	}
}

func TestExamplesParse(t *testing.T) {
	files, _ := filepath.Glob("../../examples/campaigns/*.yaml")
	if len(files) < 4 {
		t.Fatalf("found %d example campaigns, want at least 4", len(files))
	}
	for _, f := range files {
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := Parse(src, filepath.Base(f)); err != nil {
			t.Errorf("%s: %v", f, err)
		}
	}
}

func TestVariantsAndHoldoutSplitTheAudience(t *testing.T) {
	send := &Send{Variants: []Variant{{Name: "a", Percent: 30}, {Name: "b", Percent: 70}}}
	counts := map[string]int{}
	held, heldA := 0, 0
	for i := range 10000 {
		id := fmt.Sprintf("00000000-0000-4000-8000-%012d", i)
		v := PickVariant("spring", id, send)
		counts[v.Name]++
		if PickVariant("spring", id, send) != v {
			t.Fatal("variant is not stable")
		}
		if HeldOut("spring", id, 10) {
			held++
			if v.Name == "a" {
				heldA++
			}
		}
	}
	if counts["a"] < 2700 || counts["a"] > 3300 {
		t.Errorf("variant a got %d of 10000, want about 30%%", counts["a"])
	}
	if held < 850 || held > 1150 {
		t.Errorf("holdout %d of 10000, want about 10%%", held)
	}
	if heldA < held*20/100 || heldA > held*40/100 {
		t.Errorf("%d of %d held out are in arm a; the holdout must be independent of the split", heldA, held)
	}
}

func TestMessageKeysAndVariants(t *testing.T) {
	st := Step{ID: "offer", Kind: StepSend, Send: &Send{Channel: "email", Template: "winback_offer", Topic: "marketing",
		Vars: map[string]any{"discount_percent": 10}}}
	v := &Variant{Name: "b", Template: "winback_last_chance", Vars: map[string]any{"discount_percent": 20}}
	r := Message("spring", 3, "c1", st, v, 2)
	if r.IdempotencyKey != "campaign/spring/3/c1/offer/2" || r.Step != "offer:b" || r.Template != "winback_last_chance" || r.Data["discount_percent"] != 20 {
		t.Errorf("request %+v", r)
	}
	if plain := Message("spring", 3, "c1", st, nil, 1); plain.Step != "offer" || plain.Data["discount_percent"] != 10 {
		t.Errorf("request %+v", plain)
	}
}

func TestLocatePointsAtWhereAPathIsWritten(t *testing.T) {
	s, err := Parse([]byte(valid), "spring.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if got := s.StepPath("3.then.1"); got != "steps[2].branch.then[0]" {
		t.Fatalf("StepPath(3.then.1) = %q", got)
	}
	for _, tc := range []struct{ path, want string }{
		{"steps[2].branch.then[0].send.template", "spring.yaml:18:28: steps[2].branch.then[0].send.template: x"},
		{"steps[0].send.vars", "spring.yaml:13:11: steps[0].send.vars: x"}, // not written: the send it belongs to
		{"trigger.schedule.zone", "spring.yaml:8:42: trigger.schedule.zone: x"},
	} {
		if got := s.Locate(tc.path, "x").Error(); got != tc.want {
			t.Errorf("Locate(%s) = %q, want %q", tc.path, got, tc.want)
		}
	}
}

// TestParseRefusesAnAliasBomb reads a 582-byte campaign whose audience
// nests 7 levels of 9 aliases (4.8 million conditions once expanded): it is
// refused at the alias that crosses the budget, with little memory.
func TestParseRefusesAnAliasBomb(t *testing.T) {
	spectest.Refuses(t, "testdata/alias-bomb.yaml", func(data []byte) error {
		_, err := Parse(data, "alias-bomb.yaml")
		return err
	}, "alias-bomb.yaml:10:27: alias *d makes the aliases in the file stand for more than 10000 values", 10)
}

// TestParseFollowsAliasesWithinTheBudget: reusing an anchor is fine, and
// the reuse reads as if written out.
func TestParseFollowsAliasesWithinTheBudget(t *testing.T) {
	src := `name: reuse
audience:
  match:
    all:
      - &vip {tags: {any: [vip]}}
      - any: [*vip, {locale: zh-CN}]
trigger: {event: {type: purchase}}
steps:
  - send: &offer {template: winback_offer, vars: {discount_percent: 10}}
  - wait: {duration: 1mo}
  - send: *offer
`
	s, err := Parse([]byte(src), "reuse.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Steps) != 3 || s.Steps[2].Send.Template != "winback_offer" || s.Steps[1].Wait.Duration != 30*24*time.Hour {
		t.Errorf("steps %+v", s.Steps)
	}
	if _, err := segment.Parse([]byte(s.Audience.Inline), ""); err != nil {
		t.Errorf("inline audience with an alias does not parse back: %v", err)
	}
}
