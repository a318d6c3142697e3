package calendar

import (
	"context"
	"time"

	"github.com/microsoftgraph/msgraph-sdk-go/users"

	calsync "github.com/oro-msync/oro-msync/sync"
)

// KindInstances counts the pages of a series' occurrences listing
// (GET /me/events/{id}/instances).
const KindInstances = "instances"

// maxInstancePages bounds the pages Occurrences follows. The engine asks
// for the span between the earliest and the latest occurrence it writes,
// which holds a few pages of a daily series at most.
const maxInstancePages = 50

// instancesPage is a page of GET /events/{id}/instances: occurrences and
// exceptions, each with its originalStart.
type instancesPage struct {
	Value    []*seriesException `json:"value"`
	NextLink string             `json:"@odata.nextLink"`
}

// Occurrences lists the occurrences and exceptions of series master id
// that overlap [from, to), each with its OriginalStart
// (calsync.OccurrenceLister): the ids an Oro exception is written to.
// Graph leaves cancelled occurrences out (graph-facts §2). One request per
// page, however many occurrences the engine needs from the span.
func (r *Remote) Occurrences(ctx context.Context, id string, from, to time.Time) (_ []calsync.RemoteEvent, err error) {
	const op = "graph.listInstances"
	defer recovered(&err, op)
	if !validID(id) {
		return nil, malformedID(op)
	}
	start, end := from.UTC().Format(time.RFC3339), to.UTC().Format(time.RFC3339)
	b := r.client.Me().Events().ByEventId(id).Instances()
	cfg := &users.ItemEventsItemInstancesRequestBuilderGetRequestConfiguration{
		QueryParameters: &users.ItemEventsItemInstancesRequestBuilderGetQueryParameters{StartDateTime: &start, EndDateTime: &end},
	}
	var out []calsync.RemoteEvent
	for range maxInstancePages {
		cfg.Headers = prefer()
		info, err := b.ToGetRequestInformation(ctx, cfg)
		if err != nil {
			return nil, classify(err, op)
		}
		var page instancesPage
		if err := r.readOne(ctx, info, KindInstances, &page, op); err != nil {
			return nil, err
		}
		for _, x := range page.Value {
			ev, err := x.event(op, "an occurrence of the series")
			if err != nil {
				return nil, err
			}
			out = append(out, ev)
		}
		if page.NextLink == "" {
			return out, nil
		}
		if !r.session.IsGraphLink(page.NextLink) {
			return nil, foreignLink(op)
		}
		b = b.WithUrl(page.NextLink)
		cfg.QueryParameters = nil
	}
	return nil, badAnswer(op, "the series' occurrences did not end after many pages")
}
