// SPDX-License-Identifier: MIT
#include "eventmodel.h"

#include "search.h"
#include "session.h"
#include "textutil.h"
#include "tones.h"

#include <QBrush>
#include <QColor>
#include <QPointer>

namespace outbox::ui {

namespace {
constexpr int kFirstChunk = 500; // rows streamed before the first rows are shown
constexpr int kChunk = 50000; // rows per later delivery
constexpr int kFetchBatch = 400; // row attributes fetched per query
constexpr int kCacheLimit = 20000; // cached rows kept at most
} // namespace

EventTableModel::EventTableModel(Session *session, QObject *parent) : QAbstractTableModel(parent), m_session(session)
{
    m_fetchTimer.setSingleShot(true);
    m_fetchTimer.setInterval(0);
    connect(&m_fetchTimer, &QTimer::timeout, this, &EventTableModel::fetchWanted);
}

EventTableModel::~EventTableModel()
{
    ++*m_generation; // stops a scan still running on the database thread
}

void EventTableModel::setFilter(const EventFilter &filter)
{
    m_filter = filter;
    reload();
}

void EventTableModel::setRestriction(const QList<qint64> &sequences, const QString &label)
{
    m_restriction = std::make_shared<const QSet<qint64>>(sequences.cbegin(), sequences.cend());
    m_restrictionLabel = label;
    reload();
}

void EventTableModel::clearRestriction()
{
    if (!m_restriction)
        return;
    m_restriction.reset();
    m_restrictionLabel.clear();
    reload();
}

void EventTableModel::sort(int column, Qt::SortOrder order)
{
    static const SortColumn map[ColumnCount] = {SortColumn::Sequence, SortColumn::Status, SortColumn::Type,
        SortColumn::Source, SortColumn::Subject, SortColumn::OrderingKey, SortColumn::Attempts, SortColumn::HttpStatus,
        SortColumn::Sequence};
    if (column < 0 || column >= ColumnCount)
        return;
    SortOrder next{map[column], order == Qt::DescendingOrder};
    if (next.column == m_order.column && next.descending == m_order.descending)
        return;
    m_order = next;
    reload();
}

void EventTableModel::reload()
{
    startScan(false);
}

void EventTableModel::refresh()
{
    if (m_loading)
        return;
    ++m_cacheGeneration; // cached rows are shown until their fresh copy arrives
    startScan(true);
}

void EventTableModel::search(const QByteArray &text, qint64 range)
{
    m_searchText = text;
    m_searchRange = qMax<qint64>(0, range);
    m_order = SortOrder{}; // a search walks the newest events first
    reload();
}

void EventTableModel::clearSearch()
{
    if (m_searchText.isEmpty())
        return;
    m_searchText.clear();
    reload();
}

void EventTableModel::cancel()
{
    ++*m_generation;
    setLoading(false);
}

void EventTableModel::forgetRows()
{
    cancel();
    ++m_cacheEpoch;
    m_searchText.clear(); // the window starts the search again from its search box, if it still holds one
    m_restriction.reset();
    m_restrictionLabel.clear();
    m_cache.clear();
    m_inflight.clear();
    m_wanted.clear();
    m_wantedSet.clear();
    beginResetModel();
    m_seqs.clear();
    endResetModel();
}

void EventTableModel::setLoading(bool loading)
{
    if (m_loading == loading)
        return;
    m_loading = loading;
    Q_EMIT loadingChanged(loading);
}

void EventTableModel::startScan(bool swap)
{
    const int generation = ++*m_generation;
    auto current = m_generation;
    m_scanClock.start();
    m_firstShown = false;
    if (!swap) {
        beginResetModel();
        m_seqs.clear();
        m_seqs.squeeze();
        m_wanted.clear();
        m_wantedSet.clear();
        endResetModel();
    }
    setLoading(true);
    QPointer<EventTableModel> self(this);
    Session *session = m_session;
    PayloadSearch search;
    search.filter = m_filter;
    search.order = m_order;
    search.text = m_searchText;
    search.range = m_searchRange;
    const std::shared_ptr<const QSet<qint64>> restriction = m_restriction;

    m_session->post([=](Storage &storage) {
        QList<qint64> pending;
        bool first = true;
        auto live = [&] { return current->load() == generation; };
        auto found = [&](const QList<qint64> &chunk) {
            if (!live())
                return false;
            for (qint64 seq : chunk) {
                if (!restriction || restriction->contains(seq))
                    pending.append(seq);
            }
            if (!swap && pending.size() >= (first ? kFirstChunk : kChunk)) {
                first = false;
                session->deliver([self, generation, rows = pending] {
                    if (self)
                        self->appendChunk(generation, rows);
                });
                pending.clear();
            }
            return true;
        };
        auto progress = [&](int percent) {
            if (!live())
                return false;
            session->deliver([self, generation, rows = pending, percent] {
                if (!self || self->m_generation->load() != generation)
                    return;
                self->appendChunk(generation, rows);
                Q_EMIT self->searchProgress(percent);
            });
            pending.clear();
            return true;
        };
        const QString error = searchPayloads(storage, search, found, progress).message();
        if (!live())
            return;
        session->deliver([self, generation, rows = pending, swap, error] {
            if (self)
                self->finishScan(generation, rows, swap, error);
        });
    });
}

void EventTableModel::appendChunk(int generation, const QList<qint64> &chunk)
{
    if (generation != m_generation->load() || chunk.isEmpty())
        return;
    beginInsertRows({}, int(m_seqs.size()), int(m_seqs.size() + chunk.size() - 1));
    m_seqs += chunk;
    endInsertRows();
    if (!m_firstShown) {
        m_firstShown = true;
        Q_EMIT firstRowsShown(m_scanClock.elapsed());
    }
}

void EventTableModel::finishScan(int generation, const QList<qint64> &rest, bool swap, const QString &error)
{
    if (generation != m_generation->load())
        return;
    if (swap) {
        beginResetModel();
        m_seqs = rest;
        m_wanted.clear();
        m_wantedSet.clear();
        endResetModel();
    } else {
        appendChunk(generation, rest);
    }
    if (!m_firstShown) {
        m_firstShown = true;
        Q_EMIT firstRowsShown(m_scanClock.elapsed());
    }
    setLoading(false);
    if (!error.isEmpty())
        Q_EMIT errorOccurred(error);
    if (!m_searchText.isEmpty())
        Q_EMIT searchProgress(100);
    Q_EMIT loadFinished(m_seqs.size(), m_scanClock.elapsed());
}

int EventTableModel::rowOfSequence(qint64 sequence) const
{
    const qsizetype i = m_seqs.indexOf(sequence);
    return i < 0 ? -1 : int(i);
}

const OutboxEvent *EventTableModel::eventAt(int row) const
{
    auto it = m_cache.constFind(sequenceAt(row));
    return it == m_cache.cend() ? nullptr : &it->event;
}

void EventTableModel::requestRow(int row) const
{
    const qint64 seq = sequenceAt(row);
    if (seq == 0 || m_inflight.contains(seq) || m_wantedSet.contains(seq))
        return;
    m_wanted.append(seq);
    m_wantedSet.insert(seq);
    if (!m_fetchTimer.isActive())
        m_fetchTimer.start();
}

void EventTableModel::fetchWanted()
{
    if (m_wanted.isEmpty())
        return;
    // The rows asked for last are the ones on screen now; rows scrolled past long ago are dropped.
    const qsizetype take = qMin<qsizetype>(kFetchBatch, m_wanted.size());
    QList<qint64> batch = m_wanted.mid(m_wanted.size() - take);
    m_wanted.clear();
    m_wantedSet.clear();
    for (qint64 s : batch)
        m_inflight.insert(s);
    if (m_cache.size() > kCacheLimit)
        m_cache.clear();
    QPointer<EventTableModel> self(this);
    const int cacheGeneration = m_cacheGeneration;
    const int epoch = m_cacheEpoch;
    m_session->call<Result<QList<OutboxEvent>>>(
        this, [batch](Storage &s) { return s.eventsBySequence(batch, false); },
        [self, cacheGeneration, epoch, batch](const Result<QList<OutboxEvent>> &r) {
            if (!self || epoch != self->m_cacheEpoch)
                return;
            if (!r.isOk()) {
                for (qint64 s : batch)
                    self->m_inflight.remove(s);
                Q_EMIT self->errorOccurred(r.error().message());
                return;
            }
            self->rowsArrived(cacheGeneration, batch, r.value());
        },
        Session::Lane::Quick);
}

void EventTableModel::rowsArrived(int cacheGeneration, const QList<qint64> &asked, const QList<OutboxEvent> &events)
{
    for (qint64 s : asked)
        m_inflight.remove(s);
    for (const OutboxEvent &e : events)
        m_cache.insert(e.sequence, Cached{e, cacheGeneration});
    // Rows that are gone (deleted meanwhile) get an empty entry so they are not asked for again.
    for (qint64 s : asked) {
        if (!m_cache.contains(s)) {
            OutboxEvent gone;
            gone.sequence = s;
            m_cache.insert(s, Cached{gone, cacheGeneration});
        }
    }
    if (!m_seqs.isEmpty())
        Q_EMIT dataChanged(index(0, 0), index(int(m_seqs.size()) - 1, ColumnCount - 1));
    if (!m_wanted.isEmpty() && !m_fetchTimer.isActive())
        m_fetchTimer.start();
    Q_EMIT rowsFetched();
}

int EventTableModel::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : int(m_seqs.size());
}

int EventTableModel::columnCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : ColumnCount;
}

QString EventTableModel::statusLabel(const OutboxEvent &e)
{
    if (!e.formatStatus.isEmpty()) // a foreign outbox's own word ("processing", "expired")
        return e.formatStatus;
    if (e.isInFlight(QDateTime::currentDateTimeUtc()))
        return QStringLiteral("in flight");
    return statusName(e.status);
}

QVariant EventTableModel::data(const QModelIndex &index, int role) const
{
    if (!index.isValid() || index.row() >= m_seqs.size())
        return {};
    const qint64 seq = m_seqs.at(index.row());
    auto it = m_cache.constFind(seq);
    if (it == m_cache.cend() || it->generation < m_cacheGeneration) {
        if (role == Qt::DisplayRole)
            requestRow(index.row());
        if (it == m_cache.cend())
            return role == Qt::DisplayRole && index.column() == Time ? QVariant(QStringLiteral("…")) : QVariant();
    }
    const OutboxEvent &e = it->event;
    if (e.id.isEmpty()) // deleted meanwhile
        return role == Qt::DisplayRole && index.column() == Time ? QVariant(QStringLiteral("(deleted)")) : QVariant();
    switch (role) {
    case Qt::DisplayRole:
        switch (index.column()) {
        case Time:
            return e.createdAt.toLocalTime().toString(QStringLiteral("yyyy-MM-dd HH:mm:ss"));
        case Status:
            return statusLabel(e);
        case Type:
            return oneLine(e.type);
        case Source:
            return oneLine(e.source);
        case Subject:
            return oneLine(e.subject);
        case Key:
            return oneLine(e.orderingKey);
        case Attempts:
            return e.attempts;
        case Http:
            return e.lastHttpStatus > 0 ? QVariant(e.lastHttpStatus) : QVariant();
        case LastError:
            return oneLine(e.lastError, 200);
        }
        return {};
    case Qt::ToolTipRole:
        if (index.column() == LastError && !e.lastError.isEmpty())
            return plainTooltip(e.lastError);
        return {};
    case Qt::ForegroundRole:
        if (index.column() == Status || index.column() == LastError) {
            if (e.status == EventStatus::Failed)
                return QBrush(toneColour(Tone::Bad));
            if (e.status == EventStatus::Sent && index.column() == Status)
                return QBrush(toneColour(Tone::Good));
            if (e.attempts > 0 && index.column() == Status)
                return QBrush(toneColour(Tone::Warning));
        }
        return {};
    case Qt::TextAlignmentRole:
        if (index.column() == Attempts || index.column() == Http)
            return int(Qt::AlignRight | Qt::AlignVCenter);
        return {};
    }
    return {};
}

QVariant EventTableModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole)
        return {};
    static const char *const names[ColumnCount] = {
        "Time", "Status", "Type", "Source", "Subject", "Key", "Attempts", "HTTP", "Last error"};
    return section >= 0 && section < ColumnCount ? QVariant(tr(names[section])) : QVariant();
}

} // namespace outbox::ui
