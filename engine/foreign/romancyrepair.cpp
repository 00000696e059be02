// SPDX-License-Identifier: MIT
// RomancyStorage's repairs (see romancystorage.h): retry, replay, delete, cleanup and the release of rows a
// crashed relayer left 'processing', each in the format's own terms.
#include "romancyformat.h"
#include "romancystorage.h"
#include "storagedetail.h"

#include <QSqlQuery>

namespace outbox::detail {

using namespace romancy;

Result<ActionSummary> RomancyStorage::byIds(
    const QString &what, const QStringList &ids, const std::function<QString(const QString &)> &sqlFor)
{
    ActionSummary s;
    Error e = m_connection->inWriteTransaction(what, [&]() -> Error {
        for (qsizetype from = 0; from < ids.size(); from += 500) {
            const QStringList part = ids.mid(from, 500);
            auto q = run(sqlFor(placeholders(part.size())), QVariantList(part.begin(), part.end()), what);
            if (!q.isOk())
                return q.error();
            s.changed += q->numRowsAffected();
        }
        return {};
    });
    if (e)
        return e;
    s.skipped = int(ids.size()) - s.changed;
    return s;
}

Result<ActionSummary> RomancyStorage::retry(const QStringList &ids)
{
    const QString clear =
        m_columns.contains(QStringLiteral("last_error")) ? QStringLiteral(", last_error = NULL") : QString();
    return byIds(QStringLiteral("cannot retry"), ids, [&](const QString &list) {
        return m_dialect.sql(QStringLiteral("romancy-retry"))
            .replace(QLatin1String("{{clear-error}}"), clear)
            .replace(QLatin1String("{{and}}"), QStringLiteral(" AND event_id IN (%1)").arg(list));
    });
}

Result<ActionSummary> RomancyStorage::retryMatching(const EventFilter &filter)
{
    auto w = whereFor(filter);
    if (!w.isOk())
        return w.error();
    const QString clear =
        m_columns.contains(QStringLiteral("last_error")) ? QStringLiteral(", last_error = NULL") : QString();
    const QString sql = m_dialect.sql(QStringLiteral("romancy-retry"))
                            .replace(QLatin1String("{{clear-error}}"), clear)
                            .replace(QLatin1String("{{and}}"), w->sql(QStringLiteral(" AND ")));
    ActionSummary s;
    Error e = m_connection->inWriteTransaction(QStringLiteral("cannot retry"), [&]() -> Error {
        auto q = run(sql, w->values, QStringLiteral("cannot retry"));
        if (!q.isOk())
            return q.error();
        s.changed = q->numRowsAffected();
        return {};
    });
    if (e)
        return e;
    return s;
}

Result<ActionSummary> RomancyStorage::replay(const QStringList &ids)
{
    QString copied;
    for (const QString &c : {QStringLiteral("data_type"), QStringLiteral("event_data"),
             QStringLiteral("event_data_binary"), QStringLiteral("content_type")}) {
        if (m_columns.contains(c))
            copied += QStringLiteral(", ") + c;
    }
    const QString sql = m_dialect.sql(QStringLiteral("romancy-replay")).replace(QLatin1String("{{copied}}"), copied);
    ActionSummary s;
    Error e = m_connection->inWriteTransaction(QStringLiteral("cannot replay"), [&]() -> Error {
        for (const QString &id : ids) {
            const QString newId = createEventId();
            auto q = run(sql, {newId, id}, QStringLiteral("cannot replay"));
            if (!q.isOk())
                return q.error();
            if (q->numRowsAffected() > 0) {
                ++s.changed;
                s.newIds << newId;
            } else {
                ++s.skipped;
            }
        }
        return {};
    });
    if (e)
        return e;
    return s;
}

Result<ActionSummary> RomancyStorage::remove(const QStringList &ids)
{
    return byIds(QStringLiteral("cannot delete"), ids, [&](const QString &list) {
        return m_dialect.sql(QStringLiteral("romancy-delete")).replace(QLatin1String("{{ids}}"), list);
    });
}

Result<int> RomancyStorage::cleanup(const QDateTime &olderThan, const QList<EventStatus> &statuses, int batchSize)
{
    QStringList names;
    for (EventStatus st : statuses) {
        if (st == EventStatus::Sent)
            names << QStringLiteral("published");
        else if (st == EventStatus::Failed)
            names << kFailedStatuses;
        // pending rows are never cleaned up
    }
    if (names.isEmpty())
        return 0;
    const QString age = m_columns.contains(QStringLiteral("published_at"))
        ? QStringLiteral("COALESCE(published_at, created_at)")
        : QStringLiteral("created_at");
    const QString select = m_dialect.sql(QStringLiteral("romancy-cleanup-select"))
                               .replace(QLatin1String("{{statuses}}"), quotedList(names))
                               .replace(QLatin1String("{{age}}"), age)
                               .replace(QLatin1String("{{time}}"), timeParameter());
    // Paced as ours is (see CleanupPacer), beside the framework's relayers (they are in no register of ours).
    CleanupPacer pacer(m_dialect, batchSize);
    int total = 0;
    for (;;) {
        QStringList ids;
        {
            auto q = run(select, {timeValue(olderThan), pacer.rows()}, QStringLiteral("cannot clean up"));
            if (!q.isOk())
                return q.error();
            while (q->next())
                ids << q->value(0).toString();
        }
        if (ids.isEmpty())
            return total;
        pacer.begin();
        QElapsedTimer held; // with the wait for the lock: the rest that follows errs on the long side
        held.start();
        auto removed = remove(ids);
        if (!removed.isOk())
            return removed.error();
        total += removed->changed;
        if (removed->changed == 0 || ids.size() < pacer.rows())
            return total;
        pacer.rest(removed->changed, held.nsecsElapsed() / 1000);
    }
}

Result<int> RomancyStorage::releaseStuck(const QDateTime &createdBefore)
{
    const QString sql =
        m_dialect.sql(QStringLiteral("romancy-release-stuck")).replace(QLatin1String("{{time}}"), timeParameter());
    int n = 0;
    Error e = m_connection->inWriteTransaction(QStringLiteral("cannot release"), [&]() -> Error {
        auto q = run(sql, {timeValue(createdBefore)}, QStringLiteral("cannot release"));
        if (!q.isOk())
            return q.error();
        n = q->numRowsAffected();
        return {};
    });
    if (e)
        return e;
    return n;
}

} // namespace outbox::detail
