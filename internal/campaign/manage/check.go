// Package manage is what the campaign commands and the API do with a
// campaign file beyond parsing it: check it against this installation
// (templates, saved segments), plan a dry run (audience, holdout, first
// messages, next firings), apply it (a stored version and its trigger in
// Temporal) and pause, resume or archive it.
package manage

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/tidingsdev/tidings/internal/campaign"
	"github.com/tidingsdev/tidings/internal/delivery"
	"github.com/tidingsdev/tidings/internal/spec"
	"github.com/tidingsdev/tidings/internal/store"
	"github.com/tidingsdev/tidings/templates"
)

// Templates is what checks and dry runs need of the template set;
// *templates.Set implements it.
type Templates interface {
	Names() []string
	Info(name string) (templates.Info, error)
	VarUse(name string) (templates.VarUse, error)
	Sample(name, locale string) (templates.Data, error)
	Render(name, locale, channel string, d templates.Data) (templates.Rendered, error)
}

// Segments looks up saved segments; *store.Store implements it.
type Segments interface {
	GetSegment(ctx context.Context, name string) (store.Segment, error)
}

// saved adapts Segments to campaign.SavedSegments.
func saved(s Segments) campaign.SavedSegments {
	return func(ctx context.Context, name string) (string, error) {
		seg, err := s.GetSegment(ctx, name)
		return seg.Definition, err
	}
}

var missingVar = regexp.MustCompile(`map has no entry for key "([^"]+)"`)

// CheckTemplates checks every message the campaign can send against the
// template set: the template exists, is meant for customers (not staff),
// has an SMS body when sent by SMS, is given every var it reads and no var
// it never reads (a typo, or copy that was dropped), and renders in each of
// its locales with those vars, since a campaign's templates get no others.
// Each problem is located at its line in the file.
func CheckTemplates(s *campaign.Spec, set Templates) campaign.Errors {
	var errs campaign.Errors
	seen := map[string]bool{}
	add := func(path, format string, args ...any) {
		e := s.Locate(path, format, args...)
		if key := e.Error(); !seen[key] {
			seen[key] = true
			errs = append(errs, e)
		}
	}
	campaign.Walk(s.Steps, func(st *campaign.Step) {
		if st.Send == nil {
			return
		}
		base := s.StepPath(st.ID) + ".send"
		arms := []*campaign.Variant{nil}
		if n := len(st.Send.Variants); n > 0 {
			arms = make([]*campaign.Variant, n)
			for i := range st.Send.Variants {
				arms[i] = &st.Send.Variants[i]
			}
		}
		// A var of the send itself is given for nothing only if no arm's
		// template reads it.
		sendVarUsed := map[string]bool{}
		checked := 0
		for i, v := range arms {
			r := campaign.Message(s.Name, 1, "", *st, v, 1)
			r.Data = delivery.SampleCouponData(r.Data)
			if r.Template == "" || (r.Channel != templates.ChannelEmail && r.Channel != templates.ChannelSMS) {
				continue // reported by Parse
			}
			at, varsAt := base+".template", base+".vars"
			if v != nil {
				arm := fmt.Sprintf("%s.variants[%d]", base, i)
				varsAt = arm + ".vars"
				if st.Send.Template == "" || v.Template != st.Send.Template {
					at = arm + ".template"
				}
			}
			info, err := set.Info(r.Template)
			if err != nil {
				add(at, "%q: unknown template; expected one of %s", r.Template, strings.Join(customerTemplates(set), ", "))
				continue
			}
			if info.Internal {
				add(at, "%q is an internal template (it goes to staff, without an unsubscribe link); expected a customer template", r.Template)
				continue
			}
			if r.Channel == templates.ChannelSMS && !info.SMS {
				add(at, "%q has no SMS body; expected a template with an SMS variant (see `tidings templates list`) or channel: email", r.Template)
				continue
			}
			use, err := set.VarUse(r.Template)
			if err != nil {
				add(at, "%v", err)
				continue
			}
			checked++
			for k := range st.Send.Vars {
				sendVarUsed[k] = sendVarUsed[k] || uses(use, k)
			}
			if v != nil {
				for _, k := range slices.Sorted(maps.Keys(v.Vars)) {
					if !uses(use, k) {
						add(varsAt+"."+k, "%v", unusedVar(k, r.Template, use))
					}
				}
			}
			if missing := missingVars(use, r.Data); len(missing) > 0 {
				add(varsAt, "template %s uses %s, which this send does not set; expected vars %s",
					r.Template, quoteVars(missing), strings.Join(slices.Concat(use.Required, use.Optional), ", "))
				continue
			}
			if err := renderProblem(set, info, r.Channel, r.Data); err != nil {
				add(varsAt, "%v", err)
			}
		}
		if checked == len(arms) {
			for _, k := range slices.Sorted(maps.Keys(st.Send.Vars)) {
				switch use, _ := set.VarUse(st.Send.Template); {
				case sendVarUsed[k]:
				case len(st.Send.Variants) == 0:
					add(base+".vars."+k, "%v", unusedVar(k, st.Send.Template, use))
				default:
					add(base+".vars."+k, "no variant's template uses var %q; remove it or correct its name", k)
				}
			}
		}
	})
	return errs
}

// uses reports whether a template reads the send var k; a coupon_pool
// var gives the template its coupon.
func uses(use templates.VarUse, k string) bool {
	return use.Uses(k) || k == delivery.VarCouponPool && use.Uses(delivery.VarCoupon)
}

// missingVars lists the vars a template requires that the send does not
// give.
func missingVars(use templates.VarUse, given map[string]any) []string {
	var out []string
	for _, k := range use.Required {
		if _, ok := given[k]; !ok {
			out = append(out, k)
		}
	}
	return out
}

// unusedVar says that a var is given for nothing, and what the template
// does read.
func unusedVar(name, template string, use templates.VarUse) error {
	if all := slices.Concat(use.Required, use.Optional); len(all) > 0 {
		return spec.Problemf("template %s does not use var %q (it reads vars %s); remove it or correct its name", template, name, strings.Join(all, ", "))
	}
	return spec.Problemf("template %s does not use var %q (it reads no vars); remove it or correct its name", template, name)
}

func quoteVars(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = strconv.Quote(n)
	}
	if len(q) == 1 {
		return "var " + q[0]
	}
	return "vars " + strings.Join(q, ", ")
}

// customerTemplates lists the templates a campaign may send.
func customerTemplates(set Templates) []string {
	var out []string
	for _, n := range set.Names() {
		if info, err := set.Info(n); err == nil && !info.Internal {
			out = append(out, n)
		}
	}
	return out
}

// renderProblem renders a template in each of its locales with exactly the
// vars a send gives it and describes the first failure, or returns nil.
func renderProblem(set Templates, info templates.Info, channel string, vars map[string]any) error {
	for _, loc := range info.Locales {
		d, err := set.Sample(info.Name, loc)
		if err != nil {
			return err
		}
		d.Vars = map[string]any{}
		for k, v := range vars {
			d.Vars[k] = v
		}
		_, err = set.Render(info.Name, loc, channel, d)
		switch {
		case err == nil, errors.Is(err, templates.ErrTooLong):
			continue
		case missingVar.MatchString(err.Error()):
			return spec.Problemf("template %s uses var %q, which this send does not set; expected vars %s",
				info.Name, missingVar.FindStringSubmatch(err.Error())[1], strings.Join(info.Vars, ", "))
		default:
			return spec.Problemf("template %s does not render (%s) with these vars: %v", info.Name, loc, err)
		}
	}
	return nil
}

// CheckSegments checks that every saved segment the campaign names (its
// audience, its branch conditions) exists and still parses.
func CheckSegments(ctx context.Context, s *campaign.Spec, segs Segments) (campaign.Errors, error) {
	var errs campaign.Errors
	check := func(cond campaign.Condition, path string) error {
		if cond.Segment == "" {
			return nil
		}
		_, err := cond.Definition(ctx, saved(segs))
		var bad campaign.Errors
		switch {
		case errors.Is(err, store.ErrNotFound):
			errs = append(errs, s.Locate(path, "%q: no saved segment of that name; save it first with `tidings segments save FILE` (see `tidings segments list`)", cond.Segment))
		case errors.As(err, &bad):
			errs = append(errs, s.Locate(path, "saved segment %q no longer parses: %v", cond.Segment, err))
		case err != nil:
			return err
		}
		return nil
	}
	if err := check(s.Audience, "audience.segment"); err != nil {
		return nil, err
	}
	var err error
	campaign.Walk(s.Steps, func(st *campaign.Step) {
		if st.Branch != nil && err == nil {
			err = check(st.Branch.If, s.StepPath(st.ID)+".branch.if.segment")
		}
	})
	return errs, err
}
