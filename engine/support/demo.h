// SPDX-License-Identifier: MIT
#pragma once

#include "error.h"
#include "storage.h"

#include <QSqlDatabase>
#include <QString>

// The demo outbox that the console opens by default and `outboxctl demo` relays: one file, one set of sample
// events, written the way an application would (not installed: a part of the tools, not of the library).
namespace outbox::demo {

// The demo outbox's file in the user's data directory (created on first use), the same for both tools.
QString databasePath();

// Enqueues `count` sample order events (numbered from `first`, so later calls continue the story) in one
// transaction of db: four types, subjects and ordering keys per order, a traceparent on every fifth.
Error enqueueSamples(QSqlDatabase db, int first, int count);

// An empty demo outbox gets 240 sample events and a delivery history: most sent, some failed for good (404),
// some waiting for a retry (503); one already filled is left as it is. Returns how many events it added.
Result<int> fillIfEmpty(Storage &storage);

} // namespace outbox::demo
