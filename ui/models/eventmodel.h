// SPDX-License-Identifier: MIT
#pragma once

#include "outboxevent.h"
#include "storage.h"

#include <QAbstractTableModel>
#include <QElapsedTimer>
#include <QHash>
#include <QSet>
#include <QTimer>

#include <atomic>
#include <memory>

namespace outbox::ui {

class Session;

// The event table's rows, for outboxes of millions of events. The model keeps only the sequence numbers of
// the matching rows, in display order (8 bytes a row), streamed in by a scan on the database thread; the
// attributes of a row are fetched when a view first asks for it, a few hundred rows per query, and kept in a
// bounded cache. Nothing here ever waits for the database on the GUI thread.
class EventTableModel : public QAbstractTableModel
{
    Q_OBJECT
public:
    enum Column { Time, Status, Type, Source, Subject, Key, Attempts, Http, LastError, ColumnCount };

    EventTableModel(Session *session, QObject *parent = nullptr);
    ~EventTableModel() override;

    void setFilter(const EventFilter &filter); // reloads
    // Shows, of the rows the filter matches, only these (a failure group's events, an operation's events),
    // until clearRestriction(); label names them in the window. Both reload.
    void setRestriction(const QList<qint64> &sequences, const QString &label);
    void clearRestriction();
    QString restrictionLabel() const { return m_restrictionLabel; }
    const EventFilter &filter() const { return m_filter; }
    SortOrder sortOrder() const { return m_order; }
    // Reloads from scratch; rows appear as the scan streams them in.
    void reload();
    // Scans again in the background and swaps the result in at once (live refresh); cached rows are shown
    // until their fresh copy arrives, so nothing flickers.
    void refresh();
    // A text search over payloads, in the newest `range` events (0: all) that match the filter, newest
    // first, with progress; cancel() stops it and keeps what was found.
    void search(const QByteArray &text, qint64 range);
    void clearSearch();
    bool isSearching() const { return !m_searchText.isEmpty(); }
    void cancel();
    // Another outbox: stops what runs and forgets every row and the search, so nothing of the previous one is
    // shown.
    void forgetRows();
    bool isLoading() const { return m_loading; }

    qint64 sequenceAt(int row) const { return row >= 0 && row < m_seqs.size() ? m_seqs.at(row) : 0; }
    int rowOfSequence(qint64 sequence) const;
    const QList<qint64> &sequences() const { return m_seqs; }
    // The cached row, or nullptr while it is being fetched.
    const OutboxEvent *eventAt(int row) const;
    // Rows the views asked for and that are not here yet.
    int pendingFetches() const { return int(m_wanted.size() + m_inflight.size()); }

    int rowCount(const QModelIndex &parent = {}) const override;
    int columnCount(const QModelIndex &parent = {}) const override;
    QVariant data(const QModelIndex &index, int role) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role) const override;
    void sort(int column, Qt::SortOrder order) override;

    static QString statusLabel(const OutboxEvent &e);

Q_SIGNALS:
    void loadingChanged(bool loading);
    void firstRowsShown(qint64 elapsedMs); // the first rows of a reload are in the table
    void loadFinished(qint64 rows, qint64 elapsedMs); // the scan is complete
    void searchProgress(int percent);
    void rowsFetched(); // attributes of some rows arrived
    void errorOccurred(const QString &message);

private:
    void startScan(bool swap);
    void appendChunk(int generation, const QList<qint64> &chunk);
    void finishScan(int generation, const QList<qint64> &rest, bool swap, const QString &error);
    void requestRow(int row) const;
    void fetchWanted();
    void rowsArrived(int cacheGeneration, const QList<qint64> &asked, const QList<OutboxEvent> &events);
    void setLoading(bool loading);

    Session *m_session;
    EventFilter m_filter;
    SortOrder m_order;
    QByteArray m_searchText;
    qint64 m_searchRange = 0;
    std::shared_ptr<const QSet<qint64>> m_restriction;
    QString m_restrictionLabel;
    QList<qint64> m_seqs;
    std::shared_ptr<std::atomic<int>> m_generation = std::make_shared<std::atomic<int>>(0);
    bool m_loading = false;
    bool m_firstShown = false;
    QElapsedTimer m_scanClock;

    struct Cached
    {
        OutboxEvent event;
        int generation = 0;
    };
    mutable QHash<qint64, Cached> m_cache;
    mutable QList<qint64> m_wanted;
    mutable QSet<qint64> m_wantedSet;
    mutable QSet<qint64> m_inflight;
    mutable QTimer m_fetchTimer;
    int m_cacheGeneration = 0;
    int m_cacheEpoch = 0; // rows fetched before forgetRows() are dropped when they arrive
};

} // namespace outbox::ui
