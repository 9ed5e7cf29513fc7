package api

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/tidingsdev/tidings/internal/testdb"
)

func TestNPSReportOverTheAPI(t *testing.T) {
	a := newAPI(t, false)
	// Two invitations in March 2026: C-1 answers 9, C-2 answers 2 with a
	// comment: NPS 100 × (1 − 1) / 2 = 0, response rate 2/2.
	for _, c := range []struct {
		ext, comment string
		score        int
	}{{"C-1", "", 9}, {"C-2", "box was crushed", 2}} {
		id := a.customer(c.ext, map[string]any{"email": c.ext + "@example.com"})
		testdb.MustExec(t, a.store, `INSERT INTO journey_runs (journey, run_id, customer_id, trigger, started_at)
			VALUES ('survey', $1, $2, 'order_delivered', '2026-03-01T10:00:00Z')`, "run-"+c.ext, id)
		testdb.MustExec(t, a.store, `WITH m AS (
				INSERT INTO messages (idempotency_key, customer_id, journey, step, channel, template, topic, status, sent_at)
				VALUES ($1, $2, 'survey', 'survey', 'email', 'survey_request', 'surveys', 'sent', '2026-03-02T10:00:00Z')
				RETURNING id)
			INSERT INTO survey_responses (customer_id, survey, score, comment, message_id, answered_at)
			SELECT $2, 'nps', $3, $4, id, '2026-03-03T10:00:00Z' FROM m`,
			"survey/"+id+"/run-"+c.ext+"/survey", id, c.score, c.comment)
	}
	status, body := a.do(http.MethodGet, "/v1/reports/nps?since=2026-03-01&until=2026-04-01", nil)
	if status != http.StatusOK {
		t.Fatalf("nps: %d %s", status, body)
	}
	var rep struct {
		Total struct {
			Score        *float64 `json:"score"`
			ResponseRate *float64 `json:"response_rate"`
			Responses    int      `json:"responses"`
		} `json:"total"`
		Breakdowns []struct {
			By   string `json:"by"`
			Rows []struct {
				Label string `json:"label"`
			} `json:"rows"`
		} `json:"breakdowns"`
		Detractors []struct {
			ExternalID string `json:"external_id"`
			Comment    string `json:"comment"`
			Link       string `json:"link"`
		} `json:"detractors"`
	}
	if err := json.Unmarshal(body, &rep); err != nil {
		t.Fatal(err)
	}
	if rep.Total.Score == nil || *rep.Total.Score != 0 || rep.Total.ResponseRate == nil || *rep.Total.ResponseRate != 1 || rep.Total.Responses != 2 {
		t.Errorf("total = %s", body)
	}
	if len(rep.Breakdowns) != 5 || rep.Breakdowns[1].By != "month" || len(rep.Breakdowns[1].Rows) != 1 || rep.Breakdowns[1].Rows[0].Label != "2026-03" {
		t.Errorf("breakdowns = %+v", rep.Breakdowns)
	}
	if len(rep.Detractors) != 1 || rep.Detractors[0].ExternalID != "C-2" || rep.Detractors[0].Comment != "box was crushed" {
		t.Errorf("detractors = %+v", rep.Detractors)
	}
	if status, body := a.do(http.MethodGet, rep.Detractors[0].Link, nil); status != http.StatusOK {
		t.Errorf("the detractor's link %s: %d %s", rep.Detractors[0].Link, status, body)
	}

	for _, bad := range []struct{ query, field string }{
		{"since=yesterday", "since"}, {"since=2026-04-01&until=2026-03-01", "until"}, {"comments=many", "comments"},
	} {
		status, body := a.do(http.MethodGet, "/v1/reports/csat?"+bad.query, nil)
		var e struct {
			Error struct{ Field string } `json:"error"`
		}
		if json.Unmarshal(body, &e); status != http.StatusBadRequest || e.Error.Field != bad.field {
			t.Errorf("%s: %d %s, want 400 naming %s", bad.query, status, body, bad.field)
		}
	}
}
