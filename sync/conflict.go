package calsync

import "time"

// Conflict resolution, part of the pure planner (see decide): which side
// wins when both changed, as CONFLICTS.md tabulates it.

// conflictTag names the winner for Stats, only when both sides sync.
func conflictTag(cfg planConfig, oroWins bool) winner {
	if cfg.dir != DirectionBoth {
		return ""
	}
	if oroWins {
		return oroWon
	}
	return microsoftWon
}

func conflictReason(cfg planConfig, oneWay Reason, oroWins bool) Reason {
	if cfg.dir != DirectionBoth {
		return oneWay
	}
	if oroWins {
		return ReasonConflictOroWon
	}
	return ReasonConflictMSWon
}

// editVsDelete says which side wins when one side edited and the other
// deleted. oroEdited: Oro edited and Microsoft deleted.
func editVsDelete(cfg planConfig, p *pairInput, oroEdited bool) Side {
	switch cfg.dir {
	case DirectionOroToMicrosoft:
		return SideOro
	case DirectionMicrosoftToOro:
		return SideMicrosoft
	}
	switch cfg.strategy {
	case ConflictMicrosoftWins:
		return SideMicrosoft
	case ConflictMostRecent:
		if oroEdited {
			return SideOro // Microsoft's deletion time is unknown: the edit wins
		}
		deleted := p.oro.UpdatedAt
		if deleted.IsZero() {
			deleted = cfg.now
		}
		if p.remote.LastModified.After(deleted.Add(ClockSkewTolerance)) {
			return SideMicrosoft
		}
		return SideOro
	}
	return SideOro // oro_wins, and merge's fallback
}

// resolveBoth handles content changed on both sides (or, with noBase, two
// independent copies matched by UID).
func resolveBoth(p *pairInput, cfg planConfig, rcont content, noBase bool) decision {
	switch cfg.dir {
	case DirectionOroToMicrosoft:
		return pushEdit(p, cfg, p.oroC, ReasonOroChanged, "")
	case DirectionMicrosoftToOro:
		return decision{pull: OpUpdate, target: rcont, reason: ReasonMicrosoftChanged}
	}
	if cfg.strategy == ConflictMerge && !noBase {
		return merge(p, cfg, rcont)
	}
	if oroWins(cfg.strategy, p.oro.UpdatedAt, p.remote.LastModified) {
		return pushEdit(p, cfg, p.oroC, ReasonConflictOroWon, oroWon)
	}
	return decision{pull: OpUpdate, target: rcont, reason: ReasonConflictMSWon, conflict: microsoftWon}
}

// oroWins says whether Oro's side wins content changed on both sides
// under strategy (oro_wins, and merge where it cannot merge: Oro's),
// oroUpdated and msModified being the two sides' last changes.
func oroWins(strategy ConflictResolution, oroUpdated, msModified time.Time) bool {
	switch strategy {
	case ConflictMicrosoftWins:
		return false
	case ConflictMostRecent:
		return !msModified.After(oroUpdated.Add(ClockSkewTolerance))
	}
	return true
}

// merge takes each field group from the side that changed it; a group
// changed on both sides to different values goes to Oro (merge's fallback
// is oro_wins).
func merge(p *pairInput, cfg planConfig, rcont content) decision {
	base := p.link().Fields
	target := rcont
	for i, f := range fieldGroups {
		b, ok := base[f]
		if !ok && i >= legacyGroups {
			continue // a link that predates the group: the copy's stays
		}
		if !p.oroDigest().fields[i].is(b) { // Oro changed it (alone, or both did: fallback)
			target.setField(f, p.oroC)
		}
	}
	d := decision{target: target, reason: ReasonConflictMerged, conflict: merged}
	th := target.digest().all
	if th != p.remoteDigest().all {
		w := pushEdit(p, cfg, target, ReasonConflictMerged, merged)
		if w.write == "" { // cannot write Microsoft (not organizer, invalid): its copy stays, as pushEdit says
			return w
		}
		d.write, d.fields = w.write, w.fields
	}
	if th != p.oroDigest().all {
		d.pull = OpUpdate
	}
	if d.write == "" && d.pull == "" {
		d.relink = true
	}
	return d
}
