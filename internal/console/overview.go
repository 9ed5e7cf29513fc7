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
	v.Title, v.Nav = v.T("nav.overview"), "overview"
	c.render(w, r, http.StatusOK, v, "overview", overviewPage{Overview: o, Day: today})
	return nil
}

type overviewPage struct {
	mgmt.Overview
	Day time.Time
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
