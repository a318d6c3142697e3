// Package scenario is test support for the sync engine: the golden scenario
// scripts (a short script of edits on both sides and syncs, see Run), a model
// of the Oro host that applies results as the PHP host does (Host), and an
// in-memory Microsoft 365 calendar (Fake).
//
// It is an ordinary package so that the engine's own tests (against Fake)
// and sync/simtest (against the Graph simulator through the real Graph
// client) run the same scripts through the same runner. Only tests import
// it; it depends on nothing but the engine and the standard library.
//
// A script is one command per line ("#" starts a comment):
//
//	config direction=both|oro_to_microsoft|microsoft_to_oro conflict=STRATEGY
//	wait 10m                                  advance the clock
//	oro add|edit|delete ID [title=… desc=… loc=… start=… end=… allDay=true uid=…]
//	ms add REF [title=… … organizer=false uid=…]
//	ms edit|delete REF|@ORO-ID                 @e1: the Microsoft copy of Oro event e1
//	fault SPEC                                 see Fake.Fault
//	sync [full] [dryRun] [allowMassDelete] [budget=SECONDS] [disabled] [lose]
//
// Every line advances the clock by one minute.
//
// Series. A recurrence= value is TYPE;key=value;… (quote it when a value
// has spaces: recurrence="weekly;days=monday;tz=W. Europe Standard Time").
// In Oro's terms (ParseRecurrence), on "oro add|edit ID":
//
//	TYPE daily|weekly|monthly|monthnth|yearly|yearnth
//	interval=N (1 when absent; months for yearly and yearnth: 24 is every two years)
//	instance=1…5 (5 is last) days=monday,friday day=DAY-OF-MONTH month=1…12
//	occurrences=N until=RFC3339-INSTANT tz=IANA
//
// The recurrence's startTime is the event's start (an all-day event's:
// midnight of its date in tz). Changing the pattern or the times (start=,
// end=) of an Oro series clears its exceptions, as Oro does. In Graph's
// terms (ParsePattern), on "ms add|edit REF", as an Outlook user sets it:
//
//	TYPE daily|weekly|absoluteMonthly|relativeMonthly|absoluteYearly|relativeYearly
//	interval=N (1 when absent; years for the yearly types) index=first…fourth|last
//	days=… day=… month=… first=FIRST-DAY-OF-WEEK
//	occurrences=N (numbered) until=DATE (endDate, inclusive) tz=WINDOWS (UTC when absent)
//
// A Microsoft series, and a change of its master's times (ms edit REF
// start=… end=…), are written with their times as wall clock in its zone,
// its range starting on the start's date. The other series commands (orig
// is the original start of an occurrence, an instant: midnight in the
// series' zone for an all-day one):
//
//	oro except ID orig=RFC3339 [title=… desc=… loc=… start=… end=…]   make or change the exception of series ID at orig
//	oro cancel ID orig=RFC3339                 cancel that occurrence (an exception with isCancelled)
//	ms cancel REF orig=RFC3339                 delete that occurrence in Outlook
//	ms move REF orig=RFC3339 [start=… end=… title=… loc=…]            change that occurrence in Outlook (an exception)
//	show ID from=DATE to=DATE                  the starts in [from, to) of Oro series ID, as Oro expands it
//	                                           (its exceptions applied, "*" marks one), and of its Microsoft
//	                                           series' instances, in the series' zone (dates when all-day)
//
// The host applies a series master's operation as the PHP host does: the
// master's exceptions become exactly those the operation lists, matched by
// originalStart. An operation on a series master is followed by its
// recurrence and the exceptions it lists; the final state shows each
// series master's recurrence (oro) or stored pattern (microsoft), with its
// exceptions and cancelled occurrences under it. A series' occurrence ids
// print as their series' name and original start.
//
// A script with a line "sim-only" uses what only the Graph simulator
// models, series: only sync/simtest runs it (against Fake, a
// SeriesRemote is needed and Fake is none), and it has no golden.txt.
package scenario
