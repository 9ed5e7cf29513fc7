package console

import (
	"net/http"
	"time"

	"github.com/tidingsdev/tidings/internal/mgmt"
)

// overview is GET /console/: today (in the reader's time zone) and the
// last seven days, what is running, and what needs attention.
func (c *Console) overview(w http.ResponseWriter, r *http.Request, v *view) error {
	now := c.opt.Now().In(v.zone)
	today := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, v.zone)
	o, err := c.mgmt.Overview(r.Context(), today)
	if err != nil {
		return err
	}
	page := overviewPage{Overview: o, Day: today}
	scheds, down, err := c.schedules(r.Context())
	if err != nil {
		return err
	}
	page.Firings, page.EngineDown = nextFirings(scheds, overviewFirings), down
	v.Title, v.Nav = v.T("nav.overview"), "overview"
	c.render(w, r, http.StatusOK, v, "overview", page)
	return nil
}

// overviewFirings is how many upcoming schedule firings the overview lists.
const overviewFirings = 8

type overviewPage struct {
	mgmt.Overview
	Day time.Time
	// Firings are the schedules' next firings; EngineDown says Temporal
	// could not be asked for them.
	Firings    []firing
	EngineDown bool
}

// trafficBox is one window's table on the overview.
type trafficBox struct {
	V     *view
	Title string
	Rows  []mgmt.ChannelTraffic
	ID    string
}

func trafficSection(v *view, title string, rows []mgmt.ChannelTraffic, id string) trafficBox {
	return trafficBox{V: v, Title: title, Rows: rows, ID: id}
}
