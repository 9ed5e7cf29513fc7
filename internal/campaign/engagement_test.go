package campaign

import (
	"strings"
	"testing"
)

const clickCampaign = `
name: spring-offer
audience: {match: {lifecycle: lapsed}}
trigger: {event: {type: signup}}
goal: {event: email_clicked, step: offer, within: 7d}
steps:
  - send: {id: offer, template: winback_offer}
  - wait: {event: email_clicked, step: offer, timeout: 3d, on_timeout: [{send: {id: nudge, template: winback_last_chance}}]}
`

func TestWaitAndGoalOnAClickOfOneSendStep(t *testing.T) {
	s, err := Parse([]byte(clickCampaign), "offer.yaml")
	if err != nil {
		t.Fatal(err)
	}
	w := s.Steps[1].Wait
	click := func(campaign, step string) map[string]any {
		return map[string]any{"message_id": "m1", "campaign": campaign, "step": step, "journey": "campaign/" + campaign, "link": 0}
	}
	if !Matches(w.Where, click("spring-offer", "offer")) {
		t.Errorf("a click on the offer does not end the wait (where %v)", w.Where)
	}
	for _, other := range []map[string]any{click("spring-offer", "nudge"), click("autumn", "offer"), {"message_id": "m2"}} {
		if Matches(w.Where, other) {
			t.Errorf("the wait for a click on the offer matched %v", other)
		}
	}
	if !Matches(s.Goal.Where, click("spring-offer", "offer")) || Matches(s.Goal.Where, click("autumn", "offer")) {
		t.Errorf("goal where %v", s.Goal.Where)
	}
	heard := s.EventsHeard()
	if len(heard) != 1 || heard[0] != "email_clicked" {
		t.Errorf("events heard = %v, want email_clicked routed to the runs", heard)
	}
}

func TestStepOnAWaitMustNameAnEmailSendStep(t *testing.T) {
	for src, want := range map[string]string{
		strings.Replace(clickCampaign, "wait: {event: email_clicked, step: offer", "wait: {event: email_clicked, step: offers", 1):                                                                         `"offers" is not the id of a send step`,
		strings.Replace(clickCampaign, "wait: {event: email_clicked, step: offer", "wait: {event: purchase, step: offer", 1):                                                                               "step goes with event email_clicked or email_opened",
		strings.Replace(clickCampaign, "- send: {id: offer, template: winback_offer}", "- send: {id: offer, template: birthday, channel: sms}", 1):                                                         "sends SMS",
		strings.Replace(clickCampaign, "wait: {event: email_clicked, step: offer, timeout: 3d, on_timeout: [{send: {id: nudge, template: winback_last_chance}}]}", "wait: {duration: 3d, step: offer}", 1): "only go with event",
	} {
		_, err := Parse([]byte(src), "offer.yaml")
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("want an error containing %q, got %v", want, err)
		}
	}
}
