-- The reference host's tables, shaped like an Oro bundle's entities.
-- oro_* tables stand for Oro's own (users, organizations, config values,
-- calendar events); msync_* tables are what the calendar-sync bundle adds.

CREATE TABLE oro_organization (
    id   serial PRIMARY KEY,
    name text NOT NULL
);

CREATE TABLE oro_user (
    id              serial PRIMARY KEY,
    organization_id int NOT NULL REFERENCES oro_organization(id),
    username        text NOT NULL UNIQUE,
    email           text NOT NULL
);

-- Oro's config cascade (ConfigBundle's oro_config_value): one row per
-- stored value and scope. No row = "use parent scope". scope_id is 0 for
-- the system (global) scope.
CREATE TABLE oro_config_value (
    scope      text NOT NULL CHECK (scope IN ('system', 'organization', 'user')),
    scope_id   int  NOT NULL,
    name       text NOT NULL,
    value      jsonb NOT NULL,
    PRIMARY KEY (scope, scope_id, name)
);

-- The calendar events (CalendarBundle's CalendarEvent, one calendar per user).
-- Timed events: start_at/end_at instants. All-day: start_date/end_date (end
-- exclusive), as the sidecar's plain dates. deleted_at marks a tombstone:
-- kept until a sync confirms the deletion (sync/CONFLICTS.md, step 3).
CREATE TABLE oro_calendar_event (
    id          bigserial PRIMARY KEY,
    user_id     int NOT NULL REFERENCES oro_user(id),
    uid         text,
    title       text NOT NULL DEFAULT '',
    description text NOT NULL DEFAULT '',
    location    text NOT NULL DEFAULT '',
    all_day     boolean NOT NULL DEFAULT false,
    start_at    timestamptz,
    end_at      timestamptz,
    start_date  date,
    end_date    date,
    -- Oro's recurrence of a series master (its REST shape), and the
    -- exception rows of a series: recurring_event_id names the master,
    -- original_start_at the occurrence replaced (matched exactly, as Oro
    -- does); a cancelled occurrence is a row with is_cancelled
    recurrence  jsonb,
    recurring_event_id bigint REFERENCES oro_calendar_event(id) ON DELETE CASCADE,
    original_start_at  timestamptz,
    is_cancelled       boolean NOT NULL DEFAULT false,
    -- attendees and organizer come from Microsoft 365 (written there
    -- only with the writeAttendees setting, for the user's own meetings);
    -- reminders are Oro's, the smallest one synchronized
    attendees   jsonb NOT NULL DEFAULT '[]',
    is_organizer boolean,
    organizer_email text,
    organizer_display_name text,
    reminders   jsonb NOT NULL DEFAULT '[]',
    created_at  timestamptz NOT NULL DEFAULT clock_timestamp(),
    -- microseconds, as PostgreSQL keeps them; the sidecar may echo it back
    -- reformatted, so it is compared as an instant (Instant::same)
    updated_at  timestamptz NOT NULL DEFAULT clock_timestamp(),
    deleted_at  timestamptz,
    CHECK (all_day AND start_date IS NOT NULL AND end_date IS NOT NULL
        OR NOT all_day AND start_at IS NOT NULL AND end_at IS NOT NULL)
);
CREATE INDEX oro_calendar_event_user ON oro_calendar_event (user_id) WHERE deleted_at IS NULL;

-- The user's Microsoft 365 connection. Tokens are one libsodium secretbox
-- (nonce || ciphertext of the JSON token set).
CREATE TABLE msync_connection (
    user_id        int PRIMARY KEY REFERENCES oro_user(id),
    account_name   text,
    account_email  text,
    tokens         bytea,
    -- connected | reconnect_required | consent_required | error
    status         text NOT NULL DEFAULT 'connected',
    status_message text,
    connected_at   timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now()
);

-- One row per user: the sidecar's state and the scheduling bookkeeping.
CREATE TABLE msync_sync_state (
    user_id            int PRIMARY KEY REFERENCES oro_user(id),
    state              jsonb,
    next_mode          text NOT NULL DEFAULT 'full' CHECK (next_mode IN ('full', 'incremental')),
    next_sync_at       timestamptz,
    -- Microsoft asked us to wait (429, 503): no run, not even one an Oro
    -- edit asks for, starts before this
    not_before         timestamptz,
    enqueued_at        timestamptz,
    -- the mass-delete guard stopped a run: deletions wait for a confirmation
    mass_delete_pending jsonb,
    allow_mass_delete  boolean NOT NULL DEFAULT false,
    last_status        text,
    last_reason        text,
    last_error_kind    text,
    last_sync_at       timestamptz,
    run_count          int NOT NULL DEFAULT 0
);

-- One link per event (the sidecar's SyncLink, stored as it came).
-- linked_updated_at: the event's updated_at when the link was stored.
CREATE TABLE msync_event_link (
    event_id          bigint PRIMARY KEY REFERENCES oro_calendar_event(id) ON DELETE CASCADE,
    user_id           int NOT NULL,
    remote_id         text NOT NULL,
    link              jsonb NOT NULL,
    linked_updated_at timestamptz NOT NULL,
    UNIQUE (user_id, remote_id)
);

-- The change log: every Oro-side change adds a row; a run sends the events
-- named by rows up to its high-water mark, and the commit drops the rows of
-- the events it synced.
CREATE TABLE msync_change_log (
    id         bigserial PRIMARY KEY,
    user_id    int NOT NULL,
    event_id   bigint NOT NULL,
    changed_at timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX msync_change_log_user ON msync_change_log (user_id, id);

-- Every sync run a consumer made (Oro's job table, reduced): used by the
-- status command and by the tests to prove no user was synced twice at once.
CREATE TABLE msync_sync_run (
    id          bigserial PRIMARY KEY,
    user_id     int NOT NULL,
    consumer    text NOT NULL,
    mode        text NOT NULL,
    started_at  timestamptz NOT NULL DEFAULT clock_timestamp(),
    finished_at timestamptz,
    outcome     text,
    -- when this run scheduled the next one (the sidecar's nextSyncAt, a
    -- back-off, or now to continue a round)
    next_sync_at timestamptz,
    detail      text,
    -- how long the sync.run call took as the consumer waited for it, and
    -- the result's stats as they came (pushed, pulled, graphRequests, ...)
    call_ms     int,
    stats       jsonb
);

-- Push (README "Push"): the user's change-notification subscription. The
-- clientState is a secret, encrypted like the tokens.
CREATE TABLE msync_subscription (
    user_id         int PRIMARY KEY REFERENCES oro_user(id),
    subscription_id text NOT NULL UNIQUE,
    client_state    bytea NOT NULL,
    expires_at      timestamptz NOT NULL,
    renew_at        timestamptz NOT NULL,
    updated_at      timestamptz NOT NULL DEFAULT now()
);

-- The keys notification.verify returned, kept 4 hours (Graph's retry window)
-- and sent back as recentKeys: duplicates and replays are dropped.
CREATE TABLE msync_notification_key (
    key     text PRIMARY KEY,
    seen_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX msync_notification_key_seen ON msync_notification_key (seen_at);
