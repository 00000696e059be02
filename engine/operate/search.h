// SPDX-License-Identifier: MIT
#pragma once

// Private: the payload search an operator runs, for the console's event table and `outboxctl list --search`.
// Plain text is looked for in the payload's bytes by the database; a condition such as `data.amount >= 100`
// (jsonquery.h) lets the database narrow the rows by the path's last key, and each candidate's payload is
// parsed and compared here. Where sequence numbers rise with insertion the search runs newest first in
// windows of sequence numbers, so it can be bounded to the newest events and reports progress; elsewhere (a
// foreign table on a server) it is one scan of every matching row.

#include "storage.h"

#include <functional>

namespace outbox {

struct PayloadSearch
{
    EventFilter filter; ///< what else the events must match
    QByteArray text; ///< plain text, or a condition on the payload (jsonquery.h); empty: every event of the filter
    qint64 range = 0; ///< only the newest `range` sequence numbers (0: all); ignored without sequence windows
    SortOrder order; ///< the order without a text; with one, newest first (windows) or the database's order
};

// Sequence numbers scanned per window of a bounded search.
constexpr qint64 kPayloadSearchWindow = 20000;

// Streams the sequence numbers that match to `found`, a chunk for every chunk of rows scanned (possibly
// empty, so a caller that lost interest can stop the search by answering false), and the share done after
// each window to `progress` (may be empty; false stops too). Runs on the thread that owns `storage`. An error
// when the database could not be read; what was found before it has been handed over.
Error searchPayloads(Storage &storage, const PayloadSearch &search,
    const std::function<bool(const QList<qint64> &)> &found, const std::function<bool(int percent)> &progress);

} // namespace outbox
