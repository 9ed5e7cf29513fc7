package api

import (
	"context"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tidingsdev/tidings/internal/store"
)

// engagementWindow is how far back the engagement metrics count: long
// enough for a campaign's whole life, short enough that a scrape does not
// read the ledger's whole history.
const engagementWindow = 30 * 24 * time.Hour

// engagementCollector reads, at scrape time, what became of the messages
// sent in the last 30 days, per channel, topic, template and journey or
// campaign: sends, bounces, complaints, opens and clicks, people's apart.
type engagementCollector struct {
	store *store.Store
}

var engagementDesc = prometheus.NewDesc("tidings_engagement_messages",
	"Messages sent in the last 30 days by channel, topic, template, journey and campaign, and how many of them "+
		"bounced, soft_bounced, complained, were opened or clicked (each message once; *_human leaves out machine visits: "+
		"link scanners, privacy proxies).",
	[]string{"channel", "topic", "template", "journey", "campaign", "outcome"}, nil)

func (c *engagementCollector) Describe(ch chan<- *prometheus.Desc) { ch <- engagementDesc }

func (c *engagementCollector) Collect(ch chan<- prometheus.Metric) {
	if c.store == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	counts, err := c.store.EngagementCounts(ctx, time.Now().Add(-engagementWindow))
	if err != nil {
		return // tidings_store_scrape_error reports the database's trouble
	}
	for _, e := range counts {
		campaign, _ := strings.CutPrefix(e.Journey, "campaign/")
		if campaign == e.Journey {
			campaign = ""
		}
		for outcome, n := range map[string]int64{
			"sent": e.Sent, "bounced": e.Bounced, "soft_bounced": e.SoftBounced, "complained": e.Complained,
			"opened": e.Opened, "opened_human": e.OpenedHuman, "clicked": e.Clicked, "clicked_human": e.ClickedHuman,
		} {
			ch <- prometheus.MustNewConstMetric(engagementDesc, prometheus.GaugeValue, float64(n),
				e.Channel, e.Topic, e.Template, e.Journey, campaign, outcome)
		}
	}
}
