// SPDX-License-Identifier: MIT
// Failure groups: the cause of an error, and the groups Storage's reference implementation builds row by row
// (SqlStorage and RomancyStorage group in their databases and are tested against it).
#include "failuregroups.h"
#include "storage.h"

#include <QRegularExpression>

#include <functional>
#include <numeric>

namespace outbox {

namespace {

constexpr int kCauseLength = 200; // as the index of failures (schema version 6) keeps them

} // namespace

QString failureCause(const QString &error)
{
    static const QRegularExpression uuid(
        QStringLiteral("[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"));
    static const QRegularExpression hex(QStringLiteral("\\b(?=[0-9a-fA-F]*[0-9])[0-9a-fA-F]{8,}\\b"));
    static const QRegularExpression number(QStringLiteral("\\d+(?:[.,]\\d+)*"));
    static const QRegularExpression space(QStringLiteral("\\s+"));
    QString cause = error.left(kCauseLength);
    cause.replace(uuid, QStringLiteral("#"));
    cause.replace(hex, QStringLiteral("#"));
    cause.replace(number, QStringLiteral("#"));
    cause.replace(space, QStringLiteral(" "));
    return cause.trimmed();
}

namespace {

// The failed events matching filter (of the group's type when one is given), their attributes only, in order
// of sequence, `chunk` at a time.
Error forEachFailed(Storage &storage, EventFilter filter, const QString &type,
    const std::function<void(const QList<OutboxEvent> &)> &sink)
{
    filter.status = EventStatus::Failed;
    if (!type.isNull())
        filter.type = type;
    QList<qint64> sequences;
    auto scanned =
        storage.scanSequences(filter, SortOrder{SortColumn::Sequence, false}, 1000, [&](const QList<qint64> &chunk) {
            sequences += chunk;
            return true;
        });
    if (!scanned.isOk())
        return scanned.error();
    for (qsizetype i = 0; i < sequences.size(); i += 1000) {
        auto rows = storage.eventsBySequence(sequences.mid(i, 1000), false);
        if (!rows.isOk())
            return rows.error();
        std::sort(rows->begin(), rows->end(),
            [](const OutboxEvent &a, const OutboxEvent &b) { return a.sequence < b.sequence; });
        sink(*rows);
    }
    return {};
}

// When an event failed: its last attempt (a failed row's next attempt time), else its creation.
QDateTime failedAt(const OutboxEvent &e)
{
    return e.nextAttemptAt.isValid() && e.nextAttemptAt.date().year() < 9999 ? e.nextAttemptAt : e.createdAt;
}

} // namespace

Result<QList<FailureGroup>> Storage::failureGroups(const EventFilter &filter)
{
    FailureGroupCollector groups;
    Error e = forEachFailed(*this, filter, QString(), [&](const QList<OutboxEvent> &rows) {
        for (const OutboxEvent &row : rows) {
            FailureGroup g;
            g.type = row.type;
            g.httpStatus = row.lastHttpStatus;
            g.example = row.lastError;
            g.cause = failureCause(row.lastError);
            g.count = 1;
            g.firstSeen = g.lastSeen = failedAt(row);
            groups.add(g);
        }
    });
    if (e)
        return e;
    return groups.result();
}

void FailureGroupCollector::add(const FailureGroup &row)
{
    const QString key = row.type + QChar(0x1f) + QString::number(row.httpStatus) + QChar(0x1f) + row.cause;
    const auto it = m_index.constFind(key);
    if (it == m_index.constEnd()) {
        m_index.insert(key, m_groups.size());
        m_groups.append(row);
        return;
    }
    FailureGroup &g = m_groups[*it];
    g.count += row.count;
    if (row.firstSeen.isValid() && (!g.firstSeen.isValid() || row.firstSeen < g.firstSeen))
        g.firstSeen = row.firstSeen;
    if (row.lastSeen.isValid() && (!g.lastSeen.isValid() || row.lastSeen > g.lastSeen))
        g.lastSeen = row.lastSeen;
}

QList<FailureGroup> FailureGroupCollector::result()
{
    QList<FailureGroup> groups = std::move(m_groups);
    m_groups.clear();
    m_index.clear();
    std::stable_sort(groups.begin(), groups.end(), [](const FailureGroup &a, const FailureGroup &b) {
        if (a.count != b.count)
            return a.count > b.count;
        if (a.type != b.type)
            return a.type < b.type;
        if (a.httpStatus != b.httpStatus)
            return a.httpStatus < b.httpStatus;
        return a.cause < b.cause;
    });
    return groups;
}

QList<FailureGroup> groupsByCauseAlone(const QList<FailureGroup> &groups, QList<QList<qsizetype>> *members)
{
    QList<FailureGroup> merged;
    QList<QList<qsizetype>> of;
    QHash<QString, qsizetype> byCause;
    for (qsizetype i = 0; i < groups.size(); ++i) {
        const FailureGroup &g = groups.at(i);
        const auto it = byCause.constFind(g.cause);
        if (it == byCause.constEnd()) {
            byCause.insert(g.cause, merged.size());
            merged.append(g);
            of.append(QList<qsizetype>{i});
            continue;
        }
        FailureGroup &m = merged[*it];
        if (m.type != g.type)
            m.type.clear();
        if (m.httpStatus != g.httpStatus)
            m.httpStatus = 0;
        m.count += g.count;
        if (g.firstSeen.isValid() && (!m.firstSeen.isValid() || g.firstSeen < m.firstSeen))
            m.firstSeen = g.firstSeen;
        if (g.lastSeen.isValid() && (!m.lastSeen.isValid() || g.lastSeen > m.lastSeen))
            m.lastSeen = g.lastSeen;
        of[*it].append(i); // the input is largest first, so the first member's example is the largest's
    }
    QList<qsizetype> order(merged.size());
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(
        order.begin(), order.end(), [&](qsizetype a, qsizetype b) { return merged[a].count > merged[b].count; });
    QList<FailureGroup> result;
    members->clear();
    for (qsizetype i : order) {
        result.append(merged.at(i));
        members->append(of.at(i));
    }
    return result;
}

Result<QList<qint64>> Storage::failureGroupSequences(const FailureGroup &group, const EventFilter &filter)
{
    QList<qint64> sequences;
    Error e = forEachFailed(*this, filter, group.type, [&](const QList<OutboxEvent> &rows) {
        for (const OutboxEvent &row : rows) {
            if (row.lastHttpStatus == group.httpStatus && failureCause(row.lastError) == group.cause)
                sequences.append(row.sequence);
        }
    });
    if (e)
        return e;
    return sequences;
}

} // namespace outbox
