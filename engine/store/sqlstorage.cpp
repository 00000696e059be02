// SPDX-License-Identifier: MIT
#include "sqlstorage.h"

#include "sqlconnection.h"

#include "processinfo.h"
#include "failuregroups.h"
#include "storagedetail.h"

#include <QFile>
#include <QHostInfo>
#include <QJsonObject>
#include <QJsonArray>
#include <QJsonDocument>
#include <QMap>
#include <QSet>
#include <QSqlError>
#include <QSqlQuery>

#include <algorithm>

#include <sys/stat.h>

namespace outbox::detail {

Where whereFor(const EventFilter &f, const Dialect &dialect)
{
    Where w;
    if (f.status)
        w.add(QStringLiteral("status = ?"), statusName(*f.status));
    if (!f.id.isEmpty())
        w.add(QStringLiteral("id = ?"), f.id);
    if (!f.find.isEmpty()) {
        w.terms << QStringLiteral("(id = ? OR id LIKE ? ESCAPE '!' OR subject = ? OR ordering_key = ?)");
        w.values << f.find << likePrefix(f.find) << f.find << f.find;
    }
    if (!f.type.isEmpty())
        w.add(QStringLiteral("type = ?"), f.type);
    if (!f.source.isEmpty())
        w.add(QStringLiteral("source = ?"), f.source);
    if (!f.orderingKey.isEmpty())
        w.add(QStringLiteral("ordering_key = ?"), f.orderingKey);
    if (!f.formatStatus.isEmpty())
        w.terms.append(QStringLiteral("1 = 0")); // a foreign format's status: no row of ours has one
    if (!f.errorContains.isEmpty())
        w.add(dialect.sql(QStringLiteral("error-contains")), f.errorContains);
    if (f.createdFrom.isValid())
        w.add(QStringLiteral("created_at >= ?"), dialect.time(f.createdFrom.toMSecsSinceEpoch()));
    if (f.createdTo.isValid())
        w.add(QStringLiteral("created_at < ?"), dialect.time(f.createdTo.toMSecsSinceEpoch()));
    if (f.sequenceAbove > 0)
        w.add(QStringLiteral("seq > ?"), f.sequenceAbove);
    if (f.sequenceAtMost > 0)
        w.add(QStringLiteral("seq <= ?"), f.sequenceAtMost);
    if (!f.payloadContains.isEmpty())
        w.add(dialect.sql(QStringLiteral("payload-contains")), f.payloadContains);
    return w;
}

QString sequenceListJson(const QList<qint64> &sequences)
{
    QByteArray json = "[";
    for (qint64 s : sequences) {
        if (json.size() > 1)
            json += ',';
        json += QByteArray::number(s);
    }
    json += ']';
    return QString::fromLatin1(json);
}

SequenceList withSequences(QString sql, const QList<qint64> &sequences)
{
    static const QString token = QStringLiteral("{{sequences}}");
    if (!sql.contains(token))
        return {sql, sequenceListJson(sequences)};
    QStringList literals;
    for (qint64 s : sequences)
        literals << QString::number(s);
    return {sql.replace(token, literals.isEmpty() ? QStringLiteral("NULL") : literals.join(QLatin1Char(','))), {}};
}

namespace {

const char *sortColumnName(SortColumn c)
{
    switch (c) {
    case SortColumn::Sequence:
        return nullptr;
    case SortColumn::Type:
        return "type";
    case SortColumn::Source:
        return "source";
    case SortColumn::Subject:
        return "subject";
    case SortColumn::OrderingKey:
        return "ordering_key";
    case SortColumn::Status:
        return "status";
    case SortColumn::Attempts:
        return "attempts";
    case SortColumn::HttpStatus:
        return "last_http_status";
    }
    return nullptr;
}

} // namespace

SqlStorage::SqlStorage(std::unique_ptr<SqlConnection> connection)
    : m_connection(std::move(connection)), m_dialect(m_connection->dialect()), m_relay(*m_connection)
{ }

SqlStorage::~SqlStorage() = default;

bool SqlStorage::has(Capability capability) const
{
    switch (capability) {
    case Capability::Relay:
    case Capability::AttemptHistory:
    case Capability::SequenceWindows:
    case Capability::Enqueue:
        return true;
    case Capability::ReleaseStuck: // leases expire by themselves: nothing is ever stuck
        return false;
    default:
        return m_dialect.has(capability);
    }
}

Result<int> SqlStorage::releaseStuck(const QDateTime &)
{
    return Error(Error::Unsupported,
        QStringLiteral("this outbox has no stuck rows to release: a crashed relayer's leases expire by themselves"));
}

Result<QList<RelayerInfo>> SqlStorage::relayers(bool withLeases)
{
    Query q(*m_connection, m_dialect.sql(QStringLiteral("relayers")));
    if (Error e = q.exec(QStringLiteral("cannot read the relayers")))
        return e;
    QList<RelayerInfo> list;
    const QString thisHost = QHostInfo::localHostName();
    const bool locks = m_dialect.has(Capability::SessionLocks);
    while (q.q().next()) {
        RelayerInfo r;
        r.owner = q.q().value(0).toString();
        r.host = q.q().value(1).toString();
        r.pid = q.q().value(2).toLongLong();
        r.processStart = q.q().value(3).toString();
        r.leaseMs = q.q().value(5).toLongLong();
        r.startedAt = m_dialect.readTime(q.q().value(6));
        r.registered = true;
        if (const QJsonObject t = QJsonDocument::fromJson(q.q().value(8).toString().toUtf8()).object(); !t.isEmpty()) {
            r.target.target = t.value(QStringLiteral("target")).toString();
            if (t.contains(QStringLiteral("since"))) {
                r.target.unavailableSince =
                    QDateTime::fromMSecsSinceEpoch(qint64(t.value(QStringLiteral("since")).toDouble()), Qt::UTC);
                r.target.nextProbeAt =
                    QDateTime::fromMSecsSinceEpoch(qint64(t.value(QStringLiteral("next_probe")).toDouble()), Qt::UTC);
                r.target.why = t.value(QStringLiteral("why")).toString();
            }
        }
        // Alive while some session holds its lock; else while its process runs (same host only).
        if (locks)
            r.state = q.q().value(7).toBool() ? RelayerInfo::State::Alive : RelayerInfo::State::Gone;
        else if (r.host == thisHost && canTellProcessStart() && isOfThisPidNamespace(r.processStart))
            r.state = processStartToken(r.pid) == r.processStart ? RelayerInfo::State::Alive : RelayerInfo::State::Gone;
        list.append(r);
    }
    if (!withLeases)
        return list;
    Query leases(*m_connection, m_dialect.sql(QStringLiteral("leases-by-owner")));
    if (Error e = leases.exec(QStringLiteral("cannot count leases")))
        return e;
    while (leases.q().next()) {
        const QString owner = leases.q().value(0).toString();
        auto it = std::find_if(list.begin(), list.end(), [&](const RelayerInfo &r) { return r.owner == owner; });
        if (it == list.end()) {
            // Leases of an owner that is not registered (a relayer of an older version, or one forgotten):
            // its name tells host and process id; they run out at their expiry.
            RelayerInfo r;
            r.owner = owner;
            const QString where = owner.section(QLatin1Char('@'), 1).section(QLatin1Char('/'), 0, 0);
            r.host = where.section(QLatin1Char(':'), 0, 0);
            r.pid = where.section(QLatin1Char(':'), 1, 1).toLongLong();
            list.append(r);
            it = list.end() - 1;
        }
        it->held = leases.q().value(1).toLongLong();
        it->leaseExpiresAt = m_dialect.readTime(leases.q().value(2));
        if (it->registered && it->leaseExpiresAt.isValid())
            it->lastRenewal = it->leaseExpiresAt.addMSecs(-it->leaseMs);
    }
    return list;
}

namespace {
QString columns(const Dialect &d, bool includeData)
{
    return d.sql(includeData ? QStringLiteral("event-columns") : QStringLiteral("event-columns-without-data"));
}
} // namespace

Result<QList<OutboxEvent>> SqlStorage::listEvents(const EventFilter &filter, const PageRequest &page)
{
    Where w = whereFor(filter, m_dialect);
    const bool ascending = page.order == PageRequest::Order::Ascending;
    if (ascending && page.afterSequence > 0)
        w.add(QStringLiteral("seq > ?"), page.afterSequence);
    else if (!ascending && page.afterSequence > 0)
        w.add(QStringLiteral("seq < ?"), page.afterSequence);
    Query q(*m_connection,
        m_dialect.sql(QStringLiteral("list-events"))
            .replace(QLatin1String("{{columns}}"), columns(m_dialect, page.includeData))
            .replace(QLatin1String("{{where}}"), w.sql())
            .replace(QLatin1String("{{direction}}"), ascending ? QStringLiteral("ASC") : QStringLiteral("DESC")));
    q.bindAll(w.values).bind(qMax(0, page.limit));
    if (Error e = q.exec(QStringLiteral("cannot list events")))
        return e;
    QList<OutboxEvent> events;
    while (q.q().next())
        events.append(eventFromQuery(q.q(), m_dialect));
    return events;
}

Result<qint64> SqlStorage::countEvents(const EventFilter &filter)
{
    const Where w = whereFor(filter, m_dialect);
    Query q(*m_connection, m_dialect.sql(QStringLiteral("count-events")).replace(QLatin1String("{{where}}"), w.sql()));
    q.bindAll(w.values);
    if (Error e = q.exec(QStringLiteral("cannot count events")))
        return e;
    q.q().next();
    return q.q().value(0).toLongLong();
}

Result<qint64> SqlStorage::scanSequences(
    const EventFilter &filter, SortOrder order, int chunk, const std::function<bool(const QList<qint64> &)> &sink)
{
    // What is found is most often a whole id: only when no event has it are its start (and more) scanned.
    if (auto settled = scanWholeIdFirst(*this, filter, order, chunk, sink))
        return *settled;
    const Where w = whereFor(filter, m_dialect);
    const QString dir = order.descending ? QStringLiteral("DESC") : QStringLiteral("ASC");
    const char *column = sortColumnName(order.column);
    const QString orderBy =
        column ? QStringLiteral("%1 %2, seq %2").arg(QLatin1String(column), dir) : QStringLiteral("seq ") + dir;
    Query q(*m_connection,
        m_dialect.sql(QStringLiteral("scan-sequences"))
            .replace(QLatin1String("{{where}}"), w.sql())
            .replace(QLatin1String("{{order}}"), orderBy));
    q.bindAll(w.values);
    if (Error e = q.exec(QStringLiteral("cannot list events")))
        return e;
    qint64 total = 0;
    QList<qint64> batch;
    batch.reserve(qMax(1, chunk));
    while (q.q().next()) {
        batch.append(q.q().value(0).toLongLong());
        if (batch.size() >= chunk) {
            total += batch.size();
            if (!sink(batch))
                return total;
            batch.clear();
        }
    }
    total += batch.size();
    if (!batch.isEmpty())
        sink(batch);
    return total;
}

Result<QList<OutboxEvent>> SqlStorage::eventsBySequence(const QList<qint64> &sequences, bool includeData)
{
    const SequenceList list = withSequences(m_dialect.sql(QStringLiteral("events-by-sequence"))
                                                .replace(QLatin1String("{{columns}}"), columns(m_dialect, includeData)),
        sequences);
    Query q(*m_connection, list.sql);
    if (list.json)
        q.bind(*list.json);
    if (Error e = q.exec(QStringLiteral("cannot read events")))
        return e;
    QList<OutboxEvent> events;
    while (q.q().next())
        events.append(eventFromQuery(q.q(), m_dialect));
    return events;
}

Result<QStringList> SqlStorage::idsBySequence(const QList<qint64> &sequences)
{
    const SequenceList list = withSequences(m_dialect.sql(QStringLiteral("ids-by-sequence")), sequences);
    Query q(*m_connection, list.sql);
    if (list.json)
        q.bind(*list.json);
    if (Error e = q.exec(QStringLiteral("cannot read events")))
        return e;
    QStringList ids;
    while (q.q().next())
        ids.append(q.q().value(0).toString());
    return ids;
}

Result<qint64> SqlStorage::maxSequence()
{
    Query q(*m_connection, m_dialect.sql(QStringLiteral("max-sequence")));
    if (Error e = q.exec(QStringLiteral("cannot read events")))
        return e;
    q.q().next();
    return q.q().value(0).toLongLong();
}

Result<OutboxEvent> SqlStorage::event(const QString &id)
{
    Query q(*m_connection, m_dialect.sql(QStringLiteral("event-by-id")));
    q.bind(id);
    if (Error e = q.exec(QStringLiteral("cannot read event")))
        return e;
    if (!q.q().next())
        return Error(Error::NotFound, QStringLiteral("no event with id '%1'").arg(id));
    return eventFromQuery(q.q(), m_dialect);
}

Result<QList<Attempt>> SqlStorage::attempts(const QString &id)
{
    Query q(*m_connection, m_dialect.sql(QStringLiteral("attempts")));
    q.bind(id).bind(id);
    if (Error e = q.exec(QStringLiteral("cannot read attempts")))
        return e;
    QList<Attempt> list;
    while (q.q().next()) {
        Attempt a;
        a.attemptedAt = m_dialect.readTime(q.q().value(0));
        a.outcome = outcomeFromName(q.q().value(1).toString());
        a.httpStatus = q.q().value(2).toInt();
        a.error = q.q().value(3).toString();
        a.durationMs = q.q().value(4).toLongLong();
        a.relayer = q.q().value(5).toString();
        list.append(a);
    }
    return list;
}

Result<Storage::LatestFailure> SqlStorage::latestFailure()
{
    Query q(*m_connection, m_dialect.sql(QStringLiteral("latest-failure")));
    if (Error e = q.exec(QStringLiteral("cannot read the latest failure")))
        return e;
    LatestFailure f;
    if (!q.q().next())
        return f;
    const qint64 sequence = q.q().value(0).toLongLong();
    f.at = m_dialect.readTime(q.q().value(1));
    const QString error = q.q().value(2).toString();
    const int status = q.q().value(3).toInt();
    auto rows = eventsBySequence({sequence}, false);
    if (!rows.isOk())
        return rows.error();
    if (!rows->isEmpty()) {
        f.event = rows->first();
        f.event.lastError = error;
        f.event.lastHttpStatus = status;
    }
    return f;
}

Result<QList<FailureGroup>> SqlStorage::failureGroups(const EventFilter &filter)
{
    // The status as a literal, not a parameter: the planner then knows the partial index of failures applies.
    EventFilter rest = filter;
    if (rest.status && *rest.status != EventStatus::Failed)
        return QList<FailureGroup>{};
    rest.status.reset();
    Where w = whereFor(rest, m_dialect);
    w.terms.prepend(QStringLiteral("status = 'failed'"));
    Query q(
        *m_connection, m_dialect.sql(QStringLiteral("failure-groups")).replace(QLatin1String("{{where}}"), w.sql()));
    q.bindAll(w.values);
    if (Error e = q.exec(QStringLiteral("cannot group failed events")))
        return e;
    FailureGroupCollector groups;
    while (q.q().next()) {
        FailureGroup row;
        row.type = q.q().value(0).toString();
        row.httpStatus = q.q().value(1).toInt();
        row.example = q.q().value(2).toString();
        row.cause = failureCause(row.example);
        row.count = q.q().value(3).toLongLong();
        row.firstSeen = m_dialect.readTime(q.q().value(4));
        row.lastSeen = m_dialect.readTime(q.q().value(5));
        groups.add(row);
    }
    return groups.result();
}

Result<QList<QPair<QString, qint64>>> SqlStorage::valueCounts(Attribute attribute, int limit)
{
    Query q(*m_connection,
        m_dialect.sql(QStringLiteral("value-counts"))
            .replace(QLatin1String("{{column}}"),
                attribute == Attribute::Type ? QLatin1String("type") : QLatin1String("source")));
    q.bind(limit);
    if (Error e = q.exec(QStringLiteral("cannot count the values")))
        return e;
    QList<QPair<QString, qint64>> values;
    while (q.q().next())
        values.append({q.q().value(0).toString(), q.q().value(1).toLongLong()});
    return values;
}

Result<QList<DeliveryBucket>> SqlStorage::deliveryHistory(
    const QDateTime &since, int bucketSeconds, qint64 newestEvents)
{
    auto top = maxSequence();
    if (!top.isOk())
        return top.error();
    const qint64 above = qMax<qint64>(0, top.value() - newestEvents);
    const qint64 width = qMax(1, bucketSeconds);
    QMap<qint64, DeliveryBucket> buckets;
    auto count = [&](const QDateTime &at, bool sent) {
        if (!at.isValid() || at < since)
            return;
        const qint64 start = at.toSecsSinceEpoch() / width * width;
        DeliveryBucket &b = buckets[start];
        b.start = QDateTime::fromSecsSinceEpoch(start, Qt::UTC);
        ++(sent ? b.sent : b.failed);
    };
    const QVariant from = m_dialect.time(since.toMSecsSinceEpoch());
    // Sent: the row keeps its time. Failed for good: the attempt that failed it (the history keeps it).
    for (const bool sent : {true, false}) {
        Query q(*m_connection,
            m_dialect.sql(sent ? QStringLiteral("delivery-history-sent") : QStringLiteral("delivery-history-failed")));
        q.bind(above).bind(from);
        if (Error e = q.exec(QStringLiteral("cannot read the delivery history")))
            return e;
        while (q.q().next())
            count(m_dialect.readTime(q.q().value(0)), sent);
    }
    return QList<DeliveryBucket>(buckets.cbegin(), buckets.cend());
}

Result<OutboxStats> SqlStorage::stats()
{
    OutboxStats s;
    Query counts(*m_connection, m_dialect.sql(QStringLiteral("count-by-status")));
    if (Error e = counts.exec(QStringLiteral("cannot count events")))
        return e;
    while (counts.q().next()) {
        EventStatus status;
        if (!parseStatus(counts.q().value(0).toString(), &status))
            continue;
        const qint64 n = counts.q().value(1).toLongLong();
        (status == EventStatus::Pending ? s.pending : status == EventStatus::Failed ? s.failed : s.sent) = n;
    }
    Query inFlight(*m_connection, m_dialect.sql(QStringLiteral("count-in-flight")));
    inFlight.bind(m_dialect.time(nowMs()));
    if (Error e = inFlight.exec(QStringLiteral("cannot count events in flight")))
        return e;
    if (inFlight.q().next())
        s.inFlight = inFlight.q().value(0).toLongLong();
    Query oldest(*m_connection, m_dialect.sql(QStringLiteral("oldest-pending")));
    if (Error e = oldest.exec(QStringLiteral("cannot read the oldest pending event")))
        return e;
    if (oldest.q().next())
        s.oldestPendingCreatedAt = m_dialect.readTime(oldest.q().value(0));
    if (s.pending > 0) {
        const QVariant now = m_dialect.time(nowMs());
        Query due(*m_connection, m_dialect.sql(QStringLiteral("count-due")));
        due.bind(now);
        if (Error e = due.exec(QStringLiteral("cannot count the events due")))
            return e;
        if (due.q().next())
            s.ready = due.q().value(0).toLongLong();
        Query parked(*m_connection, m_dialect.sql(QStringLiteral("count-parked")));
        if (Error e = parked.exec(QStringLiteral("cannot count the parked events")))
            return e;
        if (parked.q().next())
            s.parked = qMax<qint64>(0, parked.q().value(0).toLongLong());
        s.retrying = qMax<qint64>(0, s.pending - s.inFlight - s.ready - s.parked);
        if (s.ready > 0) {
            Query ready(*m_connection, m_dialect.sql(QStringLiteral("oldest-ready")));
            ready.bind(now);
            if (Error e = ready.exec(QStringLiteral("cannot read the oldest ready event")))
                return e;
            if (ready.q().next()) {
                s.oldestReadyCreatedAt = m_dialect.readTime(ready.q().value(0));
                s.oldestReadySince = qMax(s.oldestReadyCreatedAt, m_dialect.readTime(ready.q().value(1)));
            }
        }
    }
    Query blocked(*m_connection, m_dialect.sql(QStringLiteral("blocked-keys")));
    if (Error e = blocked.exec(QStringLiteral("cannot read blocked keys")))
        return e;
    while (blocked.q().next())
        s.blockedKeys.append(blocked.q().value(0).toString());
    s.blockedKeyCount = s.blockedKeys.size();
    if (s.blockedKeyCount == 1000) { // the list stops there; the count does not
        Query count(*m_connection, m_dialect.sql(QStringLiteral("count-blocked-keys")));
        if (Error e = count.exec(QStringLiteral("cannot count blocked keys")))
            return e;
        if (count.q().next())
            s.blockedKeyCount = count.q().value(0).toLongLong();
    }
    return s;
}

} // namespace outbox::detail
