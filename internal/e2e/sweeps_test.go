package e2e

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/tidingsdev/tidings/internal/store"
	"github.com/tidingsdev/tidings/worker"
	"github.com/tidingsdev/tidings/workflows"
)

// TestBirthdayGreetsEachCustomerOnceAtNineLocal runs the hourly birthday
// sweep at chosen instants (the send path's clock follows) for a customer in
// Shanghai and one in New York who share a birthday: each is greeted in their
// own 09:00 hour, once, however often the sweep runs.
func TestBirthdayGreetsEachCustomerOnceAtNineLocal(t *testing.T) {
	t.Parallel()
	clk := &clock{}
	e := newEnv(t, setup{Clock: clk})
	for _, c := range []struct{ ext, zone string }{{"li", "Asia/Shanghai"}, {"jo", "America/New_York"}} {
		e.customer(store.CustomerInput{ExternalID: c.ext, Email: ptr(c.ext + "@example.com"), FirstName: ptr(strings.ToUpper(c.ext[:1]) + c.ext[1:]),
			TimeZone: ptr(c.zone), Birthday: ptr("1990-06-15")})
	}
	shanghai, _ := time.LoadLocation("Asia/Shanghai")
	newYork, _ := time.LoadLocation("America/New_York")

	sweeps := 0
	sweep := func(at time.Time) workflows.BirthdaySweepResult {
		t.Helper()
		clk.Set(at)
		sweeps++
		id := fmt.Sprintf("birthday-sweep-%d", sweeps)
		e.start(id, workflows.BirthdaySweepWorkflow, workflows.BirthdaySweepInput{At: at})
		var res workflows.BirthdaySweepResult
		e.result(id, &res)
		return res
	}
	greeted := func(when string, li, jo int) {
		t.Helper()
		if got := e.mailTo("li@example.com"); len(got) != li {
			t.Errorf("%s: Shanghai customer has %d greetings %s, want %d", when, len(got), subjects(got), li)
		}
		if got := e.mailTo("jo@example.com"); len(got) != jo {
			t.Errorf("%s: New York customer has %d greetings %s, want %d", when, len(got), subjects(got), jo)
		}
	}

	sweep(time.Date(2027, 6, 15, 8, 30, 0, 0, shanghai))
	greeted("08:30 in Shanghai", 0, 0)
	for range 2 {
		sweep(time.Date(2027, 6, 15, 9, 5, 0, 0, shanghai))
	}
	greeted("09:05 in Shanghai (still the 14th in New York), swept twice", 1, 0)
	sweep(time.Date(2027, 6, 15, 8, 30, 0, 0, newYork))
	greeted("08:30 in New York", 1, 0)
	for range 2 {
		sweep(time.Date(2027, 6, 15, 9, 5, 0, 0, newYork))
	}
	greeted("09:05 in New York, swept twice", 1, 1)
	res := sweep(time.Date(2027, 6, 15, 18, 0, 0, 0, newYork))
	greeted("an evening sweep", 1, 1)
	if res.Counts.Sent != 0 {
		t.Errorf("evening sweep sent %d greetings, want none", res.Counts.Sent)
	}
	if got := e.mailTo("li@example.com"); len(got) == 1 && !strings.HasPrefix(got[0].Subject, "Happy birthday, Li") {
		t.Errorf("greeting subject %q", got[0].Subject)
	}
}

// TestCareSendSurvivesAWorkerCrash kills the worker in the middle of a
// 2,000-recipient care send and starts a new one: every recipient gets
// exactly one message.
func TestCareSendSurvivesAWorkerCrash(t *testing.T) {
	t.Parallel()
	e := newEnv(t, setup{})
	const n = 2000
	zone := awake(t)
	in := make([]store.CustomerInput, n)
	for i := range in {
		ext := fmt.Sprintf("c%04d", i)
		in[i] = store.CustomerInput{ExternalID: ext, Email: ptr(ext + "@example.com"), TimeZone: ptr(zone)}
	}
	if _, err := e.store.UpsertCustomers(t.Context(), in); err != nil {
		t.Fatal(err)
	}

	// The first worker stops taking tasks at once and abandons its
	// in-flight activity, as a killed process would; the one newEnv started
	// is replaced by it.
	e.stopWorker()
	crash := e.startWorker(worker.Options{StopTimeout: time.Millisecond})
	e.start("care-checkin", workflows.CareSendWorkflow, workflows.CareSendInput{Template: "care", RunKey: "checkin-2027-06"})
	e.eventually("a few hundred messages before the crash", func() (bool, string) {
		n := e.inbox.Len()
		return n >= 300, fmt.Sprintf("%d messages", n)
	})
	crash()
	atCrash := e.inbox.Len()
	if atCrash >= n {
		t.Fatalf("all %d messages went out before the worker was stopped; nothing was left to resume", atCrash)
	}
	e.startWorker(worker.Options{})

	var res workflows.CareSendResult
	e.resultWithin("care-checkin", 5*time.Minute, &res)
	msgs := e.inbox.Messages(catcherEmail)
	perRecipient := map[string]int{}
	ids := map[string]bool{}
	for _, m := range msgs {
		for _, to := range m.To {
			perRecipient[to]++
		}
		ids[m.Header("Message-ID")] = true
	}
	var twice []string
	for to, k := range perRecipient {
		if k != 1 {
			var at []int64
			for _, m := range msgs {
				if m.To[0] == to {
					at = append(at, m.ID)
				}
			}
			twice = append(twice, fmt.Sprintf("%s×%d%v", to, k, at))
		}
	}
	t.Logf("%d messages at the crash, %d in all, %d recipients, result %+v", atCrash, len(msgs), len(perRecipient), res)
	if len(perRecipient) != n || len(msgs) != n || len(twice) > 0 {
		t.Errorf("SMTP server got %d messages for %d distinct recipients (%d distinct Message-IDs), want %d each; more than one: %v",
			len(msgs), len(perRecipient), len(ids), n, twice)
	}
	if res.Counts.Sent != n || res.Counts.Failed != 0 {
		t.Errorf("care send result %+v, want %d sent and none failed", res, n)
	}
}
