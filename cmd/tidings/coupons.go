package main

import (
	"context"
	"fmt"
	"io"
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
	cmd.AddCommand(newCouponsShowCmd(a), newCouponsRedeemCmd(a), newCouponsImportCmd(a))
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
				return writeJSON(a.stdout, c)
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

func newCouponsImportCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "import POOL FILE.csv",
		Short: "Import the shop's own codes into a pool that sends draw from",
		Long: `Reads a CSV file whose header names the columns code (required), value
and expires_at (RFC 3339, or a date: valid through that day, UTC), or a plain
list of codes one per line ("-" is standard input), into the named pool.
Every row is checked on its own: rejected rows are reported with their line,
the good ones are imported regardless (exit 3 when some were rejected); codes
already known are left as they are. A campaign send whose vars name the pool
(coupon_pool: POOL) gives each message an unused code of its own; when the
pool runs out, the message fails naming the pool. Audited as coupon.import.
The same import is POST /v1/coupon-pools/{pool}/codes.`,
		Example: `  tidings coupons import summer-sale codes.csv
  printf 'code,value\nSUMMER-0001,10 EUR\n' | tidings coupons import summer-sale -`,
		Args: exactArgs(2),
		RunE: a.manage(func(ctx context.Context, m *mgmt.Service, args []string) error {
			in, err := a.openInput(args[1])
			if err != nil {
				return err
			}
			defer in.Close()
			res, err := m.ImportCoupons(ctx, a.operator(), args[0], in)
			if err != nil {
				return mgmtErr(err)
			}
			for _, p := range res.Rejected {
				fmt.Fprintf(a.stderr, "%s:%s\n", args[1], p)
			}
			fmt.Fprintf(a.stdout, "%d rows read: %d imported, %d already known, %d rejected; pool %s has %d codes, %d unused\n",
				res.Rows, res.Imported, res.Known, len(res.Rejected), res.Pool, res.Total, res.Unused)
			if len(res.Rejected) > 0 {
				return withCode(exitRejected, fmt.Errorf("%d rows rejected", len(res.Rejected)))
			}
			return nil
		}),
	}
	return cmd
}

func printCoupon(w io.Writer, c mgmt.CouponCheck) error {
	tw := aligned(w)
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
