package workflows

import (
	"time"

	"go.temporal.io/sdk/workflow"

	"github.com/tidingsdev/tidings/activities"
	"github.com/tidingsdev/tidings/internal/delivery"
)

// Winback is the journey's name; WinbackWorkflow the per-customer
// workflow and WinbackSweepWorkflow the daily sweep that starts it.
const (
	Winback              = "winback"
	WinbackWorkflow      = "Winback"
	WinbackSweepWorkflow = "WinbackSweep"
)

// winbackJourney is the descriptor register.go lists.
func winbackJourney() Journey {
	return Journey{
		Name:    Winback,
		Summary: "daily sweep: lapsed customers get miss-you, offer, last chance",
		Run:     &Workflow{Name: WinbackWorkflow, Func: WinbackJourney},
		Steers:  On(EventPurchase),
		Sweep: &Sweep{
			Workflow: Workflow{Name: WinbackSweepWorkflow, Func: WinbackSweep},
			Kind:     "winback_sweep",
			Input:    func(SweepFields) any { return WinbackSweepInput{} },
			Default:  &DefaultSchedule{ID: "winback-sweep", Cron: "0 10 * * *", TimeZone: "UTC", Note: "default: daily win-back of lapsed customers"},
			Settings: func(v Values) any {
				return WinbackSweepInput{LapsedAfter: v.Duration("lapsed_after"), Journey: WinbackInput{
					StepGap: v.Duration("step_gap"), OfferPercent: v.Int("offer_percent"), LastChancePercent: v.Int("last_chance_percent"),
					Cooldown: v.Duration("cooldown"), LapsedTag: v.String("lapsed_tag"), CouponPool: v.String("coupon_pool"),
				}}
			},
		},
		Params: []Param{
			DurationParam("lapsed_after", DefaultLapsedAfter, 24*time.Hour, "a customer whose last purchase is older is lapsed"),
			DurationParam("cooldown", DefaultWinbackCooldown, 24*time.Hour, "no second win-back within this long of one starting"),
			DurationParam("step_gap", DefaultWinbackStepGap, time.Second, "between we miss you, the offer, the last chance and the end"),
			CountParam("offer_percent", DefaultOfferPercent, 1, 90, "the offer's discount, in percent"),
			CountParam("last_chance_percent", DefaultLastChancePercent, 1, 90, "the last chance's discount, in percent"),
			TagParam("lapsed_tag", DefaultLapsedTag, "the tag given to customers the journey did not win back"),
			PoolParam("coupon_pool", "an imported coupon pool the offers draw their codes from; none: codes derived for the run"),
		},
		Templates: []string{winbackTemplateMissYou, winbackTemplateOffer, winbackTemplateLastChance},
	}
}

// WinbackInput starts a win-back journey for a lapsed customer.
type WinbackInput struct {
	CustomerID string `json:"customer_id"`
	// StepGap separates miss-you, offer, last chance and the end; default 7 days.
	StepGap time.Duration `json:"step_gap,omitempty"`
	// OfferPercent and LastChancePercent are the discounts; defaults 10 and 20.
	OfferPercent      int `json:"offer_percent,omitempty"`
	LastChancePercent int `json:"last_chance_percent,omitempty"`
	// Cooldown blocks a new win-back this long after one started; default 180 days.
	Cooldown time.Duration `json:"cooldown,omitempty"`
	// LapsedTag marks customers the journey did not win back; default "lapsed".
	LapsedTag string `json:"lapsed_tag,omitempty"`
	// CouponPool, when set, is the imported pool each offer draws its code
	// from; otherwise codes are derived from the steps' keys.
	CouponPool string `json:"coupon_pool,omitempty"`
}

// Win-back defaults (WinbackInput's zero values).
const (
	DefaultWinbackStepGap     = 7 * 24 * time.Hour
	DefaultOfferPercent       = 10
	DefaultLastChancePercent  = 20
	DefaultWinbackCooldown    = 180 * 24 * time.Hour
	DefaultLapsedTag          = "lapsed"
	winbackCouponPrefix       = "BACK"
	winbackStepMissYou        = "miss_you"
	winbackStepOffer          = "offer"
	winbackStepLastChance     = "last_chance"
	winbackStepLastChanceSMS  = "last_chance_sms"
	winbackTemplateMissYou    = "winback_miss_you"
	winbackTemplateOffer      = "winback_offer"
	winbackTemplateLastChance = "winback_last_chance"
)

// WinbackResult is how a win-back ended.
type WinbackResult struct {
	Outcome string   `json:"outcome"`
	Sent    []string `json:"sent,omitempty"`
	// Purchase is the order that won the customer back, if one did.
	Purchase *Event `json:"purchase,omitempty"`
}

// winback is one lapsed customer's run: we miss you, an offer, a last
// chance, each a step gap apart, then the lapsed tag. A purchase at any
// point ends it at once.
type winback struct {
	*journey
	in       WinbackInput
	purchase *Event
}

// WinbackJourney (registered as WinbackWorkflow) tries to bring a lapsed
// customer back. The win-back sweep starts it; its own claim keeps the
// 180-day rule however it was started.
func WinbackJourney(ctx workflow.Context, in WinbackInput) (WinbackResult, error) {
	w := &winback{in: in}
	w.setup(ctx)
	outcome, err := w.run(ctx)
	outcome, err = w.end(ctx, outcome, err)
	return WinbackResult{Outcome: outcome, Sent: w.sent, Purchase: w.purchase}, err
}

func (w *winback) setup(ctx workflow.Context) {
	w.journey = newJourney(ctx, Winback, w.in.CustomerID, Event{}, w.onEvent)
}

func (w *winback) onEvent(e Event) bool {
	if e.Type != EventPurchase {
		return false
	}
	w.purchase = &e
	return true
}

func (w *winback) run(ctx workflow.Context) (string, error) {
	ok, err := w.claim(ctx, "lapsed", orDefault(w.in.Cooldown, DefaultWinbackCooldown))
	if err != nil || !ok {
		return OutcomeAlreadyRun, err
	}
	if _, err := w.profile(ctx, ""); err != nil {
		return "", err
	}
	bought, err := w.storedPurchase(ctx)
	if err != nil {
		return "", err
	}
	if bought {
		return OutcomeConverted, w.convert(ctx, *w.purchase)
	}
	gap := orDefault(w.in.StepGap, DefaultWinbackStepGap)
	steps := []func(workflow.Context) (bool, error){
		w.missYou,
		w.after(gap, w.offer),
		w.after(gap, w.lastChance),
		w.after(gap, func(workflow.Context) (bool, error) { return true, nil }),
	}
	for _, step := range steps {
		goOn, err := step(ctx)
		if err != nil {
			return "", err
		}
		if !goOn {
			return OutcomeConverted, w.convert(ctx, *w.purchase)
		}
	}
	return OutcomeLapsed, w.tagLapsed(ctx)
}

// storedPurchaseVersion guards the check for a purchase stored before the
// run was claimed: runs recorded without it replay without it.
const storedPurchaseVersion = "winback-stored-purchase"

// purchaseLookback is how long before the run's start a stored purchase
// still ends it. The sweep chose the customer for months without an order,
// so an order this recent arrived after the choice.
const purchaseLookback = 24 * time.Hour

// storedPurchase looks for a purchase the journey could not hear: the
// router signals a journey only once its run is claimed, so an order placed
// between the sweep's start and the claim is found here instead.
func (w *winback) storedPurchase(ctx workflow.Context) (bool, error) {
	if workflow.GetVersion(ctx, storedPurchaseVersion, workflow.DefaultVersion, 1) < 1 {
		return false, nil
	}
	var g activities.GoalResult
	err := storeCall(ctx, act.FindGoal, activities.GoalInput{
		CustomerID: w.customerID, Types: []string{EventPurchase}, Since: w.started.Add(-purchaseLookback),
	}, &g)
	if err != nil || !g.Found {
		return false, err
	}
	w.purchase = storedEvent(g)
	return true, nil
}

// after runs step once gap has passed, unless a purchase comes first.
func (w *winback) after(gap time.Duration, step func(workflow.Context) (bool, error)) func(workflow.Context) (bool, error) {
	return func(ctx workflow.Context) (bool, error) {
		if !w.box.sleep(ctx, gap) {
			return false, nil
		}
		return step(ctx)
	}
}

func (w *winback) missYou(ctx workflow.Context) (bool, error) {
	return w.send(ctx, delivery.Request{Step: winbackStepMissYou, Channel: delivery.Email, Template: winbackTemplateMissYou, Topic: delivery.TopicMarketing})
}

func (w *winback) offer(ctx workflow.Context) (bool, error) {
	data, err := w.couponData(ctx, winbackStepOffer, orDefault(w.in.OfferPercent, DefaultOfferPercent))
	if err != nil {
		return false, err
	}
	return w.send(ctx, delivery.Request{Step: winbackStepOffer, Channel: delivery.Email, Template: winbackTemplateOffer,
		Topic: delivery.TopicMarketing, Data: data})
}

// lastChance sends the bigger discount by email and, to customers who
// allowed marketing SMS, by SMS too, with the same code.
func (w *winback) lastChance(ctx workflow.Context) (bool, error) {
	data, err := w.couponData(ctx, winbackStepLastChance, orDefault(w.in.LastChancePercent, DefaultLastChancePercent))
	if err != nil {
		return false, err
	}
	goOn, err := w.send(ctx, delivery.Request{Step: winbackStepLastChance, Channel: delivery.Email,
		Template: winbackTemplateLastChance, Topic: delivery.TopicMarketing, Data: data})
	if err != nil || !goOn {
		return goOn, err
	}
	p, err := w.profile(ctx, delivery.TopicMarketing)
	if err != nil || !p.SMSConsent {
		return true, err
	}
	return w.send(ctx, delivery.Request{Step: winbackStepLastChanceSMS, Channel: delivery.SMS,
		Template: winbackTemplateLastChance, Topic: delivery.TopicMarketing, Data: data})
}

// couponData issues the step's coupon (derived from the run's key, so it is
// the same on every retry) for the template, or names the pool the send
// path draws the message's code from.
func (w *winback) couponData(ctx workflow.Context, step string, percent int) (map[string]any, error) {
	if w.in.CouponPool != "" {
		return map[string]any{delivery.VarCouponPool: w.in.CouponPool, delivery.VarDiscount: percent}, nil
	}
	var c activities.CouponResult
	err := workflow.ExecuteActivity(withStore(ctx), act.IssueCoupon, activities.CouponInput{
		Key: w.key(step), Prefix: winbackCouponPrefix,
	}).Get(ctx, &c)
	if err != nil {
		return nil, err
	}
	return map[string]any{"coupon": c.Code, "discount_percent": percent}, nil
}

func (w *winback) tagLapsed(ctx workflow.Context) error {
	return workflow.ExecuteActivity(withStore(ctx), act.TagCustomer, activities.TagInput{
		CustomerID: w.customerID, Tag: orDefault(w.in.LapsedTag, DefaultLapsedTag),
	}).Get(ctx, nil)
}
