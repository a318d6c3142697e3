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
package scenario
