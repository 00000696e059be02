// SPDX-License-Identifier: MIT
#include "eventbrowser.h"

#include "detailpane.h"
#include "eventmodel.h"
#include "failuregroupsview.h"
#include "session.h"
#include "textutil.h"
#include "tones.h"

#include <QEvent>
#include <QAction>
#include <QComboBox>
#include <QCompleter>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QItemSelectionModel>
#include <QLabel>
#include <QLineEdit>
#include <QLocale>
#include <QMessageBox>
#include <QProgressBar>
#include <QPushButton>
#include <QScrollArea>
#include <QSettings>
#include <QShortcut>
#include <QSignalBlocker>
#include <QSplitter>
#include <QStandardItemModel>
#include <QTabBar>
#include <QTableView>
#include <QTableWidget>
#include <QVBoxLayout>

namespace outbox::ui {

// (Long: it lays the browser out and wires its keys and signals, in the order they appear on screen.)
EventBrowser::EventBrowser(Session *session, QWidget *parent)
    : QWidget(parent), m_session(session), m_model(new EventTableModel(session, this))
{
    setObjectName(QStringLiteral("eventBrowser"));
    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    m_tabs = new QTabBar(this);
    m_tabs->setObjectName(QStringLiteral("statusTabs"));
    for (const QString &t : {tr("All"), tr("Pending"), tr("Failed"), tr("Sent")})
        m_tabs->addTab(t);
    layout->addWidget(m_tabs);
    layout->addWidget(buildFilterBar());
    layout->addWidget(buildSearchBar());

    m_splitter = new QSplitter(Qt::Horizontal, this);
    m_splitter->setObjectName(QStringLiteral("browserSplitter"));
    m_table = new QTableView(m_splitter);
    m_table->setObjectName(QStringLiteral("events"));
    m_table->setModel(m_model);
    m_table->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_table->setSelectionMode(QAbstractItemView::ExtendedSelection);
    m_table->setContextMenuPolicy(Qt::ActionsContextMenu);
    m_table->setWordWrap(false);
    m_table->setAlternatingRowColors(true);
    m_table->setTabKeyNavigation(false); // Tab leaves the table for the next part (arrows, j and k move in it)
    // The pointer moving over the rows: the operator is about to click one (refreshHeldBy holds the rows).
    m_table->viewport()->setMouseTracking(true);
    m_table->viewport()->installEventFilter(this);
    m_table->verticalHeader()->hide();
    m_table->verticalHeader()->setSectionResizeMode(QHeaderView::Fixed);
    m_table->verticalHeader()->setDefaultSectionSize(m_table->fontMetrics().height() + 6);
    m_table->horizontalHeader()->setStretchLastSection(true);
    m_table->horizontalHeader()->setSectionsMovable(true);
    m_table->horizontalHeader()->setSortIndicator(EventTableModel::Time, Qt::DescendingOrder);
    m_table->setSortingEnabled(true);
    const int widths[] = {150, 70, 200, 140, 120, 110, 70, 50};
    for (int c = 0; c < EventTableModel::LastError; ++c)
        m_table->setColumnWidth(c, widths[c]);
    // The detail pane scrolls in a small window rather than holding the window taller than its screen.
    auto *detailScroll = new QScrollArea(m_splitter);
    detailScroll->setObjectName(QStringLiteral("detailScroll"));
    detailScroll->setWidgetResizable(true);
    detailScroll->setFrameShape(QFrame::NoFrame);
    m_detail = new DetailPane;
    detailScroll->setWidget(m_detail);
    m_splitter->setStretchFactor(0, 3);
    m_splitter->setStretchFactor(1, 2);
    layout->addWidget(m_splitter, 1);

    m_rowsLabel = new QLabel(this);
    m_rowsLabel->setObjectName(QStringLiteral("rows"));

    connect(m_detail, &DetailPane::showEventRequested, this, &EventBrowser::findEvent);
    connect(m_tabs, &QTabBar::currentChanged, this, &EventBrowser::applyFilters);
    connect(m_model, &EventTableModel::loadingChanged, this, [this](bool loading) {
        m_cancel->setEnabled(loading);
        if (loading)
            m_rowsLabel->setText(tr("Loading…"));
        if (!loading && !m_model->isSearching())
            m_searchProgress->hide();
    });
    connect(m_model, &EventTableModel::loadFinished, this, [this](qint64 rows, qint64 ms) {
        m_lastScanMs = ms;
        m_rowsLabel->setText(tr("%Ln event(s)", nullptr, rows) + (m_model->isSearching() ? tr(" found") : QString()));
        if (std::exchange(m_findApplied, false))
            findFinished(rows);
    });
    connect(m_model, &EventTableModel::rowsInserted, this, [this] {
        if (m_model->isLoading())
            m_rowsLabel->setText(tr("Loading… %L1 so far").arg(m_model->rowCount()));
    });
    connect(
        m_model, &EventTableModel::searchProgress, this, [this](int percent) { m_searchProgress->setValue(percent); });
    connect(
        m_model, &EventTableModel::errorOccurred, this, [this](const QString &text) { Q_EMIT message(text, 10000); });
    // A live refresh swaps the rows in: keep the current row and the scroll position.
    connect(m_model, &QAbstractItemModel::modelAboutToBeReset, this, [this] {
        m_restoreCurrent = m_model->sequenceAt(m_table->currentIndex().row());
        m_restoreTop = m_model->sequenceAt(m_table->rowAt(0));
    });
    connect(m_model, &QAbstractItemModel::modelReset, this, [this] {
        if (m_restoreTop > 0) {
            const int top = m_model->rowOfSequence(m_restoreTop);
            if (top >= 0)
                m_table->scrollTo(m_model->index(top, 0), QAbstractItemView::PositionAtTop);
        }
        if (m_restoreCurrent > 0) {
            const int row = m_model->rowOfSequence(m_restoreCurrent);
            if (row >= 0)
                m_table->selectionModel()->setCurrentIndex(m_model->index(row, 0), QItemSelectionModel::NoUpdate);
        }
    });
    connect(m_table->selectionModel(), &QItemSelectionModel::currentRowChanged, this, &EventBrowser::showCurrentDetail);
    connect(m_model, &EventTableModel::rowsFetched, this, [this] {
        if (!m_detail->hasEvent() && m_table->currentIndex().isValid())
            showCurrentDetail();
        // Once the rows on screen are in (the widths come from them).
        if (!m_columnsFitted && m_table->isVisible() && m_table->rowAt(0) >= 0 && m_model->eventAt(m_table->rowAt(0))) {
            m_columnsFitted = true;
            fitColumns();
        }
    });

    auto *down = new QShortcut(QKeySequence(Qt::Key_J), m_table, nullptr, nullptr, Qt::WidgetShortcut);
    connect(down, &QShortcut::activated, this, [this] { moveCurrent(1); });
    auto *up = new QShortcut(QKeySequence(Qt::Key_K), m_table, nullptr, nullptr, Qt::WidgetShortcut);
    connect(up, &QShortcut::activated, this, [this] { moveCurrent(-1); });
    auto *escape = new QShortcut(QKeySequence(Qt::Key_Escape), m_table, nullptr, nullptr, Qt::WidgetShortcut);
    connect(escape, &QShortcut::activated, m_table, &QTableView::clearSelection);
    for (int key : {int(Qt::Key_Return), int(Qt::Key_Enter)}) {
        auto *open = new QShortcut(QKeySequence(key), m_table, nullptr, nullptr, Qt::WidgetShortcut);
        connect(open, &QShortcut::activated, this, [this] {
            m_detail->show();
            showCurrentDetail();
            m_detail->attributeTable()->setFocus();
        });
    }
}

EventBrowser::~EventBrowser()
{
    m_model->cancel(); // a scan still running gives way at once
}

// The table's context menu: filters from the row under the operator's hand (this type, source, key, or error:
// its cause's text). The window's actions on the selection come first.
void EventBrowser::addFilterActions()
{
    auto *separator = new QAction(this);
    separator->setSeparator(true);
    m_table->addAction(separator);
    auto filterBy = [this](const QString &text, const QString &name, Field field,
                        std::function<QString(const OutboxEvent &)> value) {
        auto *a = new QAction(text, this);
        a->setObjectName(name);
        connect(a, &QAction::triggered, this, [this, field, value] {
            const OutboxEvent *e = m_model->eventAt(m_table->currentIndex().row());
            if (!e)
                return;
            const QString v = value(*e);
            if (v.isEmpty()) {
                Q_EMIT message(tr("This event has none to filter by."), 4000);
                return;
            }
            fieldEdit(field)->setText(v);
            applyFilters();
        });
        m_table->addAction(a);
    };
    filterBy(tr("Filter by this &type"), QStringLiteral("filterByType"), Field::Type,
        [](const OutboxEvent &e) { return e.type; });
    filterBy(tr("Filter by this s&ource"), QStringLiteral("filterBySource"), Field::Source,
        [](const OutboxEvent &e) { return e.source; });
    filterBy(tr("Filter by this ordering &key"), QStringLiteral("filterByKey"), Field::Key,
        [](const OutboxEvent &e) { return e.orderingKey; });
    filterBy(tr("Filter by this &error"), QStringLiteral("filterByError"), Field::Error,
        [](const OutboxEvent &e) { return longestLiteral(failureCause(e.lastError)); });
}

void EventBrowser::findEvent(const QString &id)
{
    clearRestriction();
    m_idFilter->setText(id);
    applyFilters(); // an id is looked for in every status
}

void EventBrowser::showKey(const QString &key)
{
    // The key's events in every status: the failed one holding the others back among them.
    clearRestriction();
    presetFilters(0, Field::Key, key);
    applyFilters();
}

void EventBrowser::resetForOutbox(bool another)
{
    m_model->forgetRows();
    if (another) {
        m_columnsFitted = false; // to its own values, once its first rows are in
        // Another outbox starts unfiltered: the previous one's filters and search would show it empty. Nor does
        // it inherit the previous one's counts.
        presetFilters(-1);
        for (int i = 0; i < m_tabs->count(); ++i)
            m_tabs->setTabText(i, m_tabs->tabText(i).section(QStringLiteral(" ("), 0, 0));
        m_completionsLoadedAt.invalidate();
    }
    m_detail->clear();
    m_restriction->hide();
    m_restrictionClear->hide();
}

// Each column as wide as what the rows on screen hold (and its title), no text column wider than a third of the table;
// the last one (the error) takes the rest. What is still cut shows whole on hover.
void EventBrowser::fitColumns()
{
    QHeaderView *header = m_table->horizontalHeader();
    header->setResizeContentsPrecision(0); // the rows in view only: no reading of rows for a width
    const int widest = qMax(120, m_table->viewport()->width() / 3);
    for (int c = 0; c < EventTableModel::LastError; ++c) {
        if (header->isSectionHidden(c))
            continue;
        m_table->resizeColumnToContents(c); // the title's width at least
        const bool text = c >= EventTableModel::Type && c <= EventTableModel::Key; // the time stays whole
        if (text && m_table->columnWidth(c) > widest)
            m_table->setColumnWidth(c, widest);
    }
}

bool EventBrowser::hasSelection() const
{
    return m_table->selectionModel()->hasSelection();
}

QList<qint64> EventBrowser::selectedInOrder() const
{
    QList<qint64> seqs = hasSelection() ? selectedSequences() : QList<qint64>();
    std::sort(seqs.begin(), seqs.end(),
        [this](qint64 a, qint64 b) { return m_model->rowOfSequence(a) < m_model->rowOfSequence(b); });
    return seqs;
}

qint64 EventBrowser::currentSequence() const
{
    return m_model->sequenceAt(m_table->currentIndex().row());
}

void EventBrowser::updateTabCounts(const OutboxStats &s)
{
    const QLocale locale;
    m_tabs->setTabText(0, tr("All (%1)").arg(locale.toString(s.pending + s.failed + s.sent)));
    m_tabs->setTabText(1, tr("Pending (%1)").arg(locale.toString(s.pending)));
    m_tabs->setTabText(2, tr("Failed (%1)").arg(locale.toString(s.failed)));
    m_tabs->setTabText(3, tr("Sent (%1)").arg(locale.toString(s.sent)));
}

QString EventBrowser::refreshHeldBy() const
{
    // Never move rows under the operator: not while rows are selected, or a load or search is running.
    if (hasSelection())
        return tr("held while rows are selected (Esc clears)");
    if (m_pointerMoved.isValid() && m_pointerMoved.elapsed() < m_pointerHoldMs)
        return tr("held while the pointer moves over the rows");
    if (m_model->isSearching())
        return tr("off during a payload search");
    if (m_model->isLoading())
        return tr("waiting for the table");
    return {};
}

bool EventBrowser::eventFilter(QObject *watched, QEvent *event)
{
    if (watched == m_table->viewport() && event->type() == QEvent::MouseMove)
        m_pointerMoved.start();
    return QWidget::eventFilter(watched, event);
}

void EventBrowser::refreshRows()
{
    if (!m_model->isSearching())
        m_model->refresh();
}

void EventBrowser::focusFilter()
{
    m_idFilter->setFocus(); // "/" finds, as in a browser or a mail client
    m_idFilter->selectAll();
}

void EventBrowser::focusSearch()
{
    m_searchEdit->setFocus();
    m_searchEdit->selectAll();
}

void EventBrowser::loadSettings(const QSettings &s)
{
    m_splitter->restoreState(s.value(QStringLiteral("window/splitter")).toByteArray());
    const QByteArray header = s.value(QStringLiteral("window/header")).toByteArray();
    if (!header.isEmpty()) {
        m_table->horizontalHeader()->restoreState(header);
        m_table->horizontalHeader()->setSortIndicator(EventTableModel::Time, Qt::DescendingOrder);
    }
    m_searchRange->setCurrentIndex(qBound(0, s.value(QStringLiteral("searchRange"), 1).toInt(), 3));
}

void EventBrowser::saveSettings(QSettings &s) const
{
    s.setValue(QStringLiteral("window/splitter"), m_splitter->saveState());
    s.setValue(QStringLiteral("window/header"), m_table->horizontalHeader()->saveState());
    s.setValue(QStringLiteral("searchRange"), m_searchRange->currentIndex());
}

void EventBrowser::moveCurrent(int delta)
{
    const int rows = m_model->rowCount();
    if (rows == 0)
        return;
    const int row = qBound(0, m_table->currentIndex().row() + delta, rows - 1);
    m_table->selectionModel()->setCurrentIndex(
        m_model->index(row, 0), QItemSelectionModel::ClearAndSelect | QItemSelectionModel::Rows);
    m_table->scrollTo(m_model->index(row, 0));
}

void EventBrowser::showCurrentDetail()
{
    const qint64 seq = m_model->sequenceAt(m_table->currentIndex().row());
    if (seq == 0) {
        m_detail->clear(tr("Select an event to see it in full."));
        return;
    }
    m_detailRequest = seq;
    struct Detail
    {
        OutboxEvent event;
        QList<Attempt> attempts;
        OutboxEvent head; // a parked event: the earliest unsent event of its key, that it waits behind
        QString error;
    };
    m_session->call<Detail>(
        this,
        [seq](Storage &s) {
            Detail d;
            auto rows = s.eventsBySequence({seq}, true);
            if (!rows.isOk()) {
                d.error = rows.error().message();
                return d;
            }
            if (rows.value().isEmpty()) {
                d.error = QObject::tr("This event is gone (deleted or cleaned up).");
                return d;
            }
            d.event = rows.value().first();
            auto attempts = s.attempts(d.event.id);
            if (attempts.isOk())
                d.attempts = attempts.value();
            const OutboxEvent &e = d.event;
            // An event of an ordering key waits behind any earlier unsent one (parked on SQLite; on the servers
            // it looks due but is not claimed).
            if (e.status == EventStatus::Pending && !e.orderingKey.isEmpty()) {
                for (EventStatus status : {EventStatus::Failed, EventStatus::Pending}) {
                    EventFilter f;
                    f.orderingKey = e.orderingKey;
                    f.status = status;
                    f.sequenceAtMost = e.sequence - 1;
                    auto head = s.listEvents(f, PageRequest{PageRequest::Order::Ascending, 0, 1, false});
                    if (head.isOk() && !head->isEmpty()
                        && (d.head.id.isEmpty() || head->first().sequence < d.head.sequence))
                        d.head = head->first();
                }
            }
            return d;
        },
        [this, seq](const Detail &d) {
            if (seq != m_detailRequest)
                return; // the operator moved on meanwhile
            if (!d.error.isEmpty())
                m_detail->clear(d.error);
            else
                m_detail->showEvent(d.event, d.attempts, d.head);
        },
        Session::Lane::Quick);
}

QList<qint64> EventBrowser::selectedSequences() const
{
    QList<qint64> seqs;
    for (const QModelIndex &i : m_table->selectionModel()->selectedRows())
        seqs.append(m_model->sequenceAt(i.row()));
    if (seqs.isEmpty() && m_table->currentIndex().isValid())
        seqs.append(m_model->sequenceAt(m_table->currentIndex().row()));
    seqs.removeAll(0);
    return seqs;
}

bool EventBrowser::allMatching(QList<qint64> *sequences)
{
    if (m_model->isLoading()) {
        QMessageBox::information(window(), tr("Still loading"),
            tr("The table is still loading the events that match; try again when it is complete."));
        return false;
    }
    *sequences = m_model->sequences();
    return true;
}

} // namespace outbox::ui
