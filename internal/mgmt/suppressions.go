package mgmt

import (
	"context"

	"github.com/tidingsdev/tidings/internal/access"
	"github.com/tidingsdev/tidings/internal/store"
	"github.com/tidingsdev/tidings/internal/validate"
)

// SuppressionStore changes the suppression list; *store.Store implements it.
type SuppressionStore interface {
	SuppressNew(ctx context.Context, sp store.Suppression) (bool, error)
	Suppression(ctx context.Context, channel, address string) (store.Suppression, error)
	RemoveSuppression(ctx context.Context, channel, address, actor, detail string) (store.Suppression, error)
	ImportSuppressions(ctx context.Context, sps []store.Suppression) (int, error)
}

// Suppress puts an address on the list after checking it (validate.Errors
// naming the field), audited as suppression.add. It returns the entry as it
// stands and whether it was added now (false: it was there, with its first
// reason).
func (s *Service) Suppress(ctx context.Context, p access.Principal, sp store.Suppression, region string) (store.Suppression, bool, error) {
	sp, err := validate.Suppression(sp, region)
	if err != nil {
		return store.Suppression{}, false, err
	}
	sp.Actor = p.String()
	if err := s.audit(ctx, p, "suppression.add", sp.Channel+":"+sp.Address, map[string]any{"reason": sp.Reason, "source": sp.Source}); err != nil {
		return store.Suppression{}, false, err
	}
	added, err := s.store.SuppressNew(ctx, sp)
	if err != nil {
		return store.Suppression{}, false, err
	}
	got, err := s.store.Suppression(ctx, sp.Channel, sp.Address)
	return got, added, err
}

// Unsuppress lets messages reach an address again, audited as
// suppression.remove and kept in the address's history with note.
func (s *Service) Unsuppress(ctx context.Context, p access.Principal, channel, address, note string) (store.Suppression, error) {
	if _, err := s.store.Suppression(ctx, channel, address); err != nil {
		return store.Suppression{}, err
	}
	if err := s.audit(ctx, p, "suppression.remove", channel+":"+store.NormalizeAddress(address), map[string]any{"note": note}); err != nil {
		return store.Suppression{}, err
	}
	return s.store.RemoveSuppression(ctx, channel, address, p.String(), note)
}

// ImportSuppressions adds checked rows in one statement, audited as
// suppression.import; it returns how many were new.
func (s *Service) ImportSuppressions(ctx context.Context, p access.Principal, sps []store.Suppression) (int, error) {
	for i := range sps {
		sps[i].Actor = p.String()
	}
	if err := s.audit(ctx, p, "suppression.import", "suppressions", map[string]any{"rows": len(sps)}); err != nil {
		return 0, err
	}
	return s.store.ImportSuppressions(ctx, sps)
}
