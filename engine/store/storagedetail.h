// SPDX-License-Identifier: MIT
#pragma once

// Private: what the Storage implementations (SqlStorage, RomancyStorage) share beside their connection.

#include "storage.h"

#include <QElapsedTimer>

#include <functional>
#include <optional>

namespace outbox::detail {

class Dialect;

// For scanSequences(): a filter's `find` tried first as a whole id, which the id index answers at once.
// The answer when that settles it (an error, or rows found); nothing when the whole find must run.
std::optional<Result<qint64>> scanWholeIdFirst(Storage &storage, const EventFilter &filter, SortOrder order, int chunk,
    const std::function<bool(const QList<qint64> &)> &sink);

// `text` as the start of a LIKE pattern with '!' as its escape character (`LIKE ? ESCAPE '!'`), '%' appended:
// a backslash means different things in MySQL's and PostgreSQL's literals.
QString likePrefix(const QString &text);

// The pace of a cleanup (SqlStorage::cleanup, RomancyStorage::cleanup), which shares the database with
// relayers and applications. It deletes in short transactions: rows() adapts so one takes about 10 ms, never
// more than the caller's batch size. After each, rest() pauses: 2 ms while cleanup has the database to itself,
// so that on SQLite a waiting writer gets the lock in; nine times as long as the last transaction took once it
// shares the database, so it takes at most a tenth of the time from a relayer at full speed. It shares the
// database while, in the last 2 s, another writer held SQLite's write lock when it wanted it
// (Dialect::lockWaits), or `relayerAlive` (asked at most once a second; on a server, whose rows are locked one
// by one, the cost is its CPU and disk) said a relayer runs.
class CleanupPacer
{
public:
    CleanupPacer(const Dialect &dialect, int batchSize, std::function<bool()> relayerAlive = {});
    int rows() const { return m_rows; }
    // Around each transaction: `deleted` rows, the lock held for `heldUs`.
    void begin();
    void rest(int deleted, qint64 heldUs);

private:
    const Dialect &m_dialect;
    const int m_batchSize;
    const std::function<bool()> m_relayerAlive;
    int m_rows;
    QElapsedTimer m_clock;
    qint64 m_lastShared;
    qint64 m_lastAsked;
    qint64 m_waitsBefore = 0;
};

} // namespace outbox::detail
