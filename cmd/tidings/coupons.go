package main

import (
	"context"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/tidingsdev/tidings/internal/mgmt"
)

func newCouponsCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "coupons",
		Short: "Check and redeem the coupon codes messages handed out",
		Long: `Every coupon code a message carries is stored when the message goes out:
the codes birthday, anniversary and win-back messages derive for each
customer, and codes drawn from a pool the shop imported. A shop checks a code
(valid, expired, redeemed) and redeems it for an order, here or at
/v1/coupons/{code}; a redemption is recorded as a conversion of the message
that carried the code.`,
	}
	cmd.AddCommand(newCouponsShowCmd(a), newCouponsRedeemCmd(a))
	return cmd
}

func newCouponsShowCmd(a *app) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "show CODE",
		Short: "Show a code: valid, expired or redeemed, its value, expiry, customer and message",
		Example: `  tidings coupons show BDAY-7KQ2M4XH3T
  tidings coupons show bday-7kq2m4xh3t --json`,
		Args: exactArgs(1),
		RunE: a.manage(func(ctx context.Context, m *mgmt.Service, args []string) error {
			c, err := m.Coupon(ctx, args[0])
			if err != nil {
				return mgmtErr(err)
			}
			if asJSON {
				return writeIndentedJSON(a.stdout, c)
			}
			return printCoupon(a.stdout, c)
		}),
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

func newCouponsRedeemCmd(a *app) *cobra.Command {
	var r mgmt.Redeem
	cmd := &cobra.Command{
		Use:   "redeem CODE --order ID",
		Short: "Redeem a code for an order (again with the same order changes nothing)",
		Long: `Marks the code used for the order and records a conversion credited to the
message that carried it. Redeeming again for the same order changes nothing;
another order on a redeemed code, or an expired code, is refused. Audited as
coupon.redeem.`,
		Example: `  tidings coupons redeem BDAY-7KQ2M4XH3T --order 10042
  tidings coupons redeem BDAY-7KQ2M4XH3T --order 10042 --revenue 59.90 --currency EUR`,
		Args: exactArgs(1),
		RunE: a.manage(func(ctx context.Context, m *mgmt.Service, args []string) error {
			r.Code = args[0]
			c, created, err := m.RedeemCoupon(ctx, a.operator(), r)
			if err != nil {
				return mgmtErr(err)
			}
			if !created {
				fmt.Fprintf(a.stdout, "%s was already redeemed for order %s at %s; unchanged\n", c.Code, c.OrderID, c.RedeemedAt.Format(time.DateTime))
				return nil
			}
			fmt.Fprintf(a.stdout, "%s redeemed for order %s (customer %s, %s)\n", c.Code, c.OrderID, c.CustomerID, orDash(c.Journey))
			return nil
		}),
	}
	cmd.Flags().StringVar(&r.OrderID, "order", "", "the shop's order ID (required)")
	cmd.Flags().Float64Var(&r.Revenue, "revenue", 0, "the order's value, credited to the conversion")
	cmd.Flags().StringVar(&r.Currency, "currency", "", "the revenue's currency (ISO 4217, e.g. EUR)")
	return cmd
}

func printCoupon(w io.Writer, c mgmt.CouponCheck) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	at := func(t *time.Time) string {
		if t == nil {
			return "-"
		}
		return t.Format(time.DateTime)
	}
	value := c.Value
	if c.DiscountPercent > 0 {
		value = fmt.Sprintf("%d%% off", c.DiscountPercent)
	}
	for _, row := range [][2]string{
		{"code", c.Code}, {"status", c.Status}, {"value", orDash(value)}, {"expires", at(c.ExpiresAt)},
		{"customer", c.CustomerID}, {"message", c.MessageID}, {"journey", orDash(c.Journey)}, {"step", orDash(c.Step)},
		{"pool", orDash(c.Pool)}, {"issued", at(c.IssuedAt)}, {"redeemed", at(c.RedeemedAt)}, {"order", orDash(c.OrderID)},
	} {
		fmt.Fprintf(tw, "%s\t%s\n", row[0], row[1])
	}
	return tw.Flush()
}
