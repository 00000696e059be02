// SPDX-License-Identifier: MIT
// The romancy/edda outbox_events table as a foreign outbox (see romancystorage.h). Its SQL is in the
// romancy-*.sql resource files; what differs per database comes from the dialect, as for our own outbox.
#include "romancystorage.h"

#include "romancyformat.h"

#include "sqlstorage.h"
#include "failuregroups.h"
#include "storagedetail.h"

#include <QSqlError>
#include <QSqlQuery>

namespace outbox::detail {

using namespace romancy;

RomancyStorage::RomancyStorage(
    std::unique_ptr<SqlConnection> connection, const QString &format, const QStringList &columns)
    : m_connection(std::move(connection)),
      m_dialect(m_connection->dialect()),
      m_format(format),
      m_columns(columns),
      m_rowKey(m_dialect.sql(QStringLiteral("romancy-row-key")).trimmed())
{
    if (m_rowKey.isEmpty())
        m_numbers = numbersFor(m_connection->spec());
}

RomancyStorage::~RomancyStorage() = default;

bool RomancyStorage::has(Capability capability) const
{
    switch (capability) {
    case Capability::Relay:
    case Capability::AttemptHistory:
    case Capability::Enqueue:
    case Capability::Notify:
    case Capability::ChangeCounter:
    case Capability::SessionLocks:
        return false;
    case Capability::SequenceWindows:
        return !m_rowKey.isEmpty();
    case Capability::ReleaseStuck:
        return true;
    default:
        return m_dialect.has(capability);
    }
}

QString RomancyStorage::relayRefusal() const
{
    return QStringLiteral("relaying a %1 table is left to the framework's own relayer: it takes rows without a "
                          "lease another relayer could share, so relaying beside it would send events twice")
        .arg(m_format);
}

Result<QList<RelayerInfo>> RomancyStorage::relayers(bool)
{
    return QList<RelayerInfo>(); // the frameworks record no relayers
}

Result<QSqlQuery> RomancyStorage::run(const QString &sql, const QVariantList &values, const QString &what)
{
    QSqlQuery q(database());
    q.setForwardOnly(true);
    m_connection->countStatement();
    if (!q.prepare(sql))
        return Error(Error::Database, QStringLiteral("%1: %2").arg(what, m_dialect.errorText(q.lastError())));
    for (int i = 0; i < values.size(); ++i)
        q.bindValue(i, values.at(i));
    if (!q.exec())
        return Error(Error::Database, QStringLiteral("%1: %2").arg(what, m_dialect.errorText(q.lastError())));
    return q;
}

QString RomancyStorage::column(const QString &name, const QString &fallback) const
{
    return m_columns.contains(name) ? name : fallback;
}

QString RomancyStorage::timeText(const QString &column) const
{
    return m_dialect.sql(QStringLiteral("romancy-time-text")).trimmed().replace(QLatin1String("{{column}}"), column);
}

QString RomancyStorage::timeParameter() const
{
    return m_dialect.sql(QStringLiteral("romancy-time")).trimmed();
}

// Positions read by rowToEvent().
QString RomancyStorage::columns(bool includeData) const
{
    const QString key = m_rowKey.isEmpty() ? QStringLiteral("NULL") : m_rowKey;
    QStringList c = {key, QStringLiteral("event_id"), QStringLiteral("event_type"), QStringLiteral("event_source"),
        column(QStringLiteral("content_type"), QStringLiteral("NULL")),
        column(QStringLiteral("data_type"), QStringLiteral("'json'")), timeText(QStringLiteral("created_at")),
        m_columns.contains(QStringLiteral("published_at")) ? timeText(QStringLiteral("published_at"))
                                                           : QStringLiteral("NULL"),
        QStringLiteral("status"), QStringLiteral("retry_count"),
        column(QStringLiteral("last_error"), QStringLiteral("NULL"))};
    if (includeData) {
        c << QStringLiteral("event_data") << column(QStringLiteral("event_data_binary"), QStringLiteral("NULL"));
    }
    return c.join(QStringLiteral(", "));
}

qint64 RomancyStorage::sequenceOf(const QVariant &key, const QString &id)
{
    return m_rowKey.isEmpty() ? numberOf(id) : key.toLongLong();
}

OutboxEvent RomancyStorage::rowToEvent(const QSqlQuery &q, bool includeData)
{
    OutboxEvent e;
    e.id = q.value(1).toString();
    e.sequence = sequenceOf(q.value(0), e.id);
    e.type = q.value(2).toString();
    e.source = q.value(3).toString();
    e.contentType = q.value(4).toString();
    const bool binary = q.value(5).toString() == QLatin1String("binary");
    e.createdAt = parseTime(q.value(6));
    e.sentAt = parseTime(q.value(7));
    e.formatStatus = q.value(8).toString();
    e.status = statusOf(e.formatStatus);
    e.attempts = q.value(9).toInt();
    e.lastError = q.value(10).toString();
    if (e.formatStatus == QLatin1String("processing"))
        e.leaseOwner = QStringLiteral("the framework's relayer"); // being sent, for as long as it says so
    if (includeData) {
        const QVariant data = binary ? q.value(12) : q.value(11);
        e.data = data.typeId() == QMetaType::QByteArray ? data.toByteArray() : data.toString().toUtf8();
    }
    return e;
}

Result<RomancyStorage::Where> RomancyStorage::whereFor(const EventFilter &f) const
{
    Where w;
    if (f.status) {
        switch (*f.status) {
        case EventStatus::Pending:
            w.terms << QStringLiteral("status IN (%1)").arg(quotedList(kPendingStatuses));
            break;
        case EventStatus::Failed:
            w.terms << QStringLiteral("status IN (%1)").arg(quotedList(kFailedStatuses));
            break;
        case EventStatus::Sent:
            w.terms << QStringLiteral("status = 'published'");
            break;
        }
    }
    auto exact = [&](const QString &column, const QString &value) {
        if (!value.isEmpty()) {
            w.terms << column + QStringLiteral(" = ?");
            w.values << value;
        }
    };
    exact(QStringLiteral("status"), f.formatStatus);
    exact(QStringLiteral("event_id"), f.id);
    if (!f.find.isEmpty()) { // the format has neither subjects nor ordering keys: an id or its start
        w.terms << QStringLiteral("(event_id = ? OR event_id LIKE ? ESCAPE '!')");
        w.values << f.find << likePrefix(f.find);
    }
    exact(QStringLiteral("event_type"), f.type);
    exact(QStringLiteral("event_source"), f.source);
    if (!f.orderingKey.isEmpty())
        w.terms << QStringLiteral("1 = 0"); // the format has no ordering keys
    auto contains = [&](const QString &column, const QString &value) {
        if (!m_columns.contains(column)) {
            w.terms << QStringLiteral("1 = 0");
            return;
        }
        w.terms
            << m_dialect.sql(QStringLiteral("romancy-contains")).trimmed().replace(QLatin1String("{{column}}"), column);
        w.values << value;
    };
    if (!f.errorContains.isEmpty())
        contains(QStringLiteral("last_error"), f.errorContains);
    if (!f.payloadContains.isEmpty())
        contains(QStringLiteral("event_data"), QString::fromUtf8(f.payloadContains));
    if (f.createdFrom.isValid()) {
        w.terms << QStringLiteral("created_at >= ") + timeParameter();
        w.values << timeValue(f.createdFrom);
    }
    if (f.createdTo.isValid()) {
        w.terms << QStringLiteral("created_at < ") + timeParameter();
        w.values << timeValue(f.createdTo);
    }
    if (f.sequenceAbove > 0 || f.sequenceAtMost > 0) {
        if (m_rowKey.isEmpty())
            return Error(Error::Unsupported,
                QStringLiteral("a %1 table on this database has no sequence to bound a scan by").arg(m_format));
        if (f.sequenceAbove > 0) {
            w.terms << m_rowKey + QStringLiteral(" > ?");
            w.values << f.sequenceAbove;
        }
        if (f.sequenceAtMost > 0) {
            w.terms << m_rowKey + QStringLiteral(" <= ?");
            w.values << f.sequenceAtMost;
        }
    }
    return w;
}

// Ties broken by the row's place: the rowid, else creation time then id (the frameworks' own order).
QString RomancyStorage::orderBy(const char *column, bool descending) const
{
    const QString dir = descending ? QStringLiteral(" DESC") : QStringLiteral(" ASC");
    QStringList keys;
    if (column)
        keys << QLatin1String(column) + dir;
    if (m_rowKey.isEmpty())
        keys << QStringLiteral("created_at") + dir << QStringLiteral("event_id") + dir;
    else
        keys << m_rowKey + dir;
    return QStringLiteral(" ORDER BY ") + keys.join(QStringLiteral(", "));
}

Result<QList<OutboxEvent>> RomancyStorage::listEvents(const EventFilter &filter, const PageRequest &page)
{
    auto w = whereFor(filter);
    if (!w.isOk())
        return w.error();
    const bool descending = page.order == PageRequest::Order::Descending;
    if (page.afterSequence > 0) {
        if (m_rowKey.isEmpty())
            return Error(Error::Unsupported,
                QStringLiteral("a %1 table on this database has no sequence to page by: filter by creation time "
                               "instead")
                    .arg(m_format));
        w.value().terms << m_rowKey + (descending ? QStringLiteral(" < ?") : QStringLiteral(" > ?"));
        w.value().values << page.afterSequence;
    }
    const QString sql = m_dialect.sql(QStringLiteral("romancy-select"))
                            .replace(QLatin1String("{{columns}}"), columns(page.includeData))
                            .replace(QLatin1String("{{where}}"), w->sql())
                            .replace(QLatin1String("{{order}}"), orderBy(nullptr, descending))
        + QStringLiteral(" LIMIT %1").arg(qMax(1, page.limit));
    auto q = run(sql, w->values, QStringLiteral("cannot list events"));
    if (!q.isOk())
        return q.error();
    QList<OutboxEvent> events;
    while (q->next())
        events.append(rowToEvent(*q, page.includeData));
    return events;
}

Result<QList<FailureGroup>> RomancyStorage::failureGroups(const EventFilter &filter)
{
    EventFilter failed = filter;
    failed.status = EventStatus::Failed;
    auto w = whereFor(failed);
    if (!w.isOk())
        return w.error();
    const QString sql =
        m_dialect.sql(QStringLiteral("romancy-failure-groups"))
            .replace(QLatin1String("{{where}}"), w->sql())
            .replace(QLatin1String("{{error}}"), column(QStringLiteral("last_error"), QStringLiteral("NULL")))
            .replace(QLatin1String("{{first}}"), timeText(QStringLiteral("MIN(created_at)")))
            .replace(QLatin1String("{{last}}"), timeText(QStringLiteral("MAX(created_at)")));
    auto q = run(sql, w->values, QStringLiteral("cannot group failed events"));
    if (!q.isOk())
        return q.error();
    FailureGroupCollector groups;
    while (q->next()) {
        FailureGroup row;
        row.type = q->value(0).toString();
        row.example = q->value(1).toString();
        row.cause = failureCause(row.example);
        row.count = q->value(2).toLongLong();
        row.firstSeen = parseTime(q->value(3));
        row.lastSeen = parseTime(q->value(4));
        groups.add(row);
    }
    return groups.result();
}

Result<QList<QPair<QString, qint64>>> RomancyStorage::valueCounts(Attribute attribute, int limit)
{
    const QString sql =
        m_dialect.sql(QStringLiteral("value-counts"))
            .replace(QLatin1String("{{column}}"),
                attribute == Attribute::Type ? QLatin1String("event_type") : QLatin1String("event_source"));
    auto q = run(sql, {limit}, QStringLiteral("cannot count the values"));
    if (!q.isOk())
        return q.error();
    QList<QPair<QString, qint64>> values;
    while (q->next())
        values.append({q->value(0).toString(), q->value(1).toLongLong()});
    return values;
}

Error RomancyStorage::addHistoryNote(const QString &, const QString &)
{
    return Error(Error::Unsupported, QStringLiteral("a %1 table keeps no history").arg(m_format));
}

Result<qint64> RomancyStorage::countEvents(const EventFilter &filter)
{
    auto w = whereFor(filter);
    if (!w.isOk())
        return w.error();
    auto q = run(m_dialect.sql(QStringLiteral("romancy-count")).replace(QLatin1String("{{where}}"), w->sql()),
        w->values, QStringLiteral("cannot count events"));
    if (!q.isOk())
        return q.error();
    return q->next() ? q->value(0).toLongLong() : 0;
}

Result<qint64> RomancyStorage::scanSequences(
    const EventFilter &filter, SortOrder order, int chunk, const std::function<bool(const QList<qint64> &)> &sink)
{
    // What is found is most often a whole id: only when no event has it are its start (and more) scanned.
    if (auto settled = scanWholeIdFirst(*this, filter, order, chunk, sink))
        return *settled;
    auto w = whereFor(filter);
    if (!w.isOk())
        return w.error();
    const char *column = nullptr;
    switch (order.column) {
    case SortColumn::Type:
        column = "event_type";
        break;
    case SortColumn::Source:
        column = "event_source";
        break;
    case SortColumn::Status:
        column = "status";
        break;
    case SortColumn::Attempts:
        column = "retry_count";
        break;
    default: // the format has no subject, ordering key or HTTP status: its own order
        break;
    }
    const QString key = m_rowKey.isEmpty() ? QStringLiteral("event_id") : m_rowKey;
    const QString sql = m_dialect.sql(QStringLiteral("romancy-select"))
                            .replace(QLatin1String("{{columns}}"), key)
                            .replace(QLatin1String("{{where}}"), w->sql())
                            .replace(QLatin1String("{{order}}"), orderBy(column, order.descending));
    qint64 total = 0;
    QList<qint64> batch;
    batch.reserve(qMax(1, chunk));
    // Streams one query's rows to the sink; false when the sink stopped the scan.
    auto stream = [&](const QString &text) -> Result<bool> {
        auto q = run(text, w->values, QStringLiteral("cannot list events"));
        if (!q.isOk())
            return q.error();
        while (q->next()) {
            const QVariant v = q->value(0);
            batch.append(m_rowKey.isEmpty() ? sequenceOf({}, v.toString()) : v.toLongLong());
            if (batch.size() >= chunk) {
                total += batch.size();
                const bool more = sink(batch);
                batch.clear();
                if (!more)
                    return false;
            }
        }
        return true;
    };
    qint64 skip = 0;
    if (m_rowKey.isEmpty()) {
        // The frameworks' tables have no index in this order, and the server drivers hand over a result only
        // once it is all read: the first chunk comes from a query of its own (a top-N sort), so the first
        // rows show without waiting for the whole scan; the scan then starts after them.
        skip = qMax(1, chunk);
        auto first = stream(sql + QStringLiteral(" LIMIT %1").arg(skip));
        if (!first.isOk())
            return first.error();
        if (!*first)
            return total;
        if (total + batch.size() < skip) { // fewer rows than a chunk: that was all of them
            total += batch.size();
            if (!batch.isEmpty())
                sink(batch);
            return total;
        }
    }
    auto rest = stream(skip > 0 ? sql + QStringLiteral(" LIMIT 9223372036854775807 OFFSET %1").arg(skip) : sql);
    if (!rest.isOk())
        return rest.error();
    if (!*rest)
        return total;
    total += batch.size();
    if (!batch.isEmpty())
        sink(batch);
    return total;
}

Result<QList<OutboxEvent>> RomancyStorage::eventsBySequence(const QList<qint64> &sequences, bool includeData)
{
    QList<OutboxEvent> events;
    constexpr qsizetype kChunk = 500;
    for (qsizetype from = 0; from < sequences.size(); from += kChunk) {
        const QList<qint64> part = sequences.mid(from, kChunk);
        QVariantList values;
        QString condition;
        if (m_rowKey.isEmpty()) {
            for (qint64 s : part) {
                const QString id = idOf(s);
                if (!id.isEmpty())
                    values << id;
            }
            if (values.isEmpty())
                continue;
            condition = QStringLiteral(" WHERE event_id IN (%1)").arg(placeholders(values.size()));
        } else {
            for (qint64 s : part)
                values << s;
            condition = QStringLiteral(" WHERE %1 IN (%2)").arg(m_rowKey, placeholders(values.size()));
        }
        const QString sql = m_dialect.sql(QStringLiteral("romancy-select"))
                                .replace(QLatin1String("{{columns}}"), columns(includeData))
                                .replace(QLatin1String("{{where}}"), condition)
                                .replace(QLatin1String("{{order}}"), QString());
        auto q = run(sql, values, QStringLiteral("cannot read events"));
        if (!q.isOk())
            return q.error();
        while (q->next())
            events.append(rowToEvent(*q, includeData));
    }
    return events;
}

Result<QStringList> RomancyStorage::idsBySequence(const QList<qint64> &sequences)
{
    if (m_rowKey.isEmpty()) {
        QStringList ids;
        for (qint64 s : sequences) {
            const QString id = idOf(s);
            if (!id.isEmpty())
                ids << id;
        }
        return ids;
    }
    auto events = eventsBySequence(sequences, false);
    if (!events.isOk())
        return events.error();
    QStringList ids;
    for (const OutboxEvent &e : *events)
        ids << e.id;
    return ids;
}

Result<qint64> RomancyStorage::maxSequence()
{
    if (m_rowKey.isEmpty())
        return numbered();
    auto q = run(QStringLiteral("SELECT MAX(%1) FROM outbox_events").arg(m_rowKey), {},
        QStringLiteral("cannot read the outbox"));
    if (!q.isOk())
        return q.error();
    return q->next() ? q->value(0).toLongLong() : 0;
}

Result<OutboxEvent> RomancyStorage::event(const QString &id)
{
    EventFilter f;
    f.id = id;
    PageRequest page;
    page.limit = 1;
    auto events = listEvents(f, page);
    if (!events.isOk())
        return events.error();
    if (events->isEmpty())
        return Error(Error::NotFound, QStringLiteral("no event with id '%1'").arg(id));
    return events->first();
}

Result<QList<Attempt>> RomancyStorage::attempts(const QString &)
{
    return QList<Attempt>(); // the frameworks keep only the count and the last error
}

Result<OutboxStats> RomancyStorage::stats()
{
    const QString sql = m_dialect.sql(QStringLiteral("romancy-count-by-status"))
                            .replace(QLatin1String("{{oldest}}"), timeText(QStringLiteral("MIN(created_at)")));
    auto q = run(sql, {}, QStringLiteral("cannot read the outbox"));
    if (!q.isOk())
        return q.error();
    OutboxStats s;
    QHash<QString, qint64> counts;
    while (q->next()) {
        const QString status = q->value(0).toString();
        const qint64 n = q->value(1).toLongLong();
        counts[status] += n;
        const QDateTime oldest = parseTime(q->value(2));
        switch (statusOf(status)) {
        case EventStatus::Pending:
            s.pending += n;
            if (oldest.isValid() && (!s.oldestPendingCreatedAt.isValid() || oldest < s.oldestPendingCreatedAt))
                s.oldestPendingCreatedAt = oldest;
            if (status == QLatin1String("processing")) {
                s.processing += n;
                s.inFlight += n;
                s.oldestProcessingCreatedAt = oldest;
            }
            break;
        case EventStatus::Failed:
            s.failed += n;
            break;
        case EventStatus::Sent:
            s.sent += n;
            break;
        }
    }
    for (const QString &status : kFormatStatuses)
        s.byFormatStatus.append({status, counts.take(status)});
    for (auto it = counts.cbegin(); it != counts.cend(); ++it) // a status neither framework writes
        s.byFormatStatus.append({it.key(), it.value()});
    return s;
}

} // namespace outbox::detail
