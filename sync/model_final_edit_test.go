package calsync_test

import "testing"

// In microsoft_to_oro an Oro delete drops the link and leaves the Microsoft
// event alone; only a later Outlook edit brings it back into Oro. The
// model's final "ms edit every event" must therefore change every event's
// content: a random edit may give back exactly what the link holds, which is
// no change at all (a change is confirmed by content hash), and the event
// then rightly stays out of Oro (model seed 61027: o1 deleted in Oro, then
// AAMk001's body set again to the linked body-486).
func TestModelFinalMicrosoftEditChangesContent(t *testing.T) {
	if msg := runModel(61027); msg != "" {
		t.Fatal(msg)
	}
}
