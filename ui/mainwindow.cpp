// SPDX-License-Identifier: MIT
#include "mainwindow.h"

#include "composerdialog.h"
#include "connectioncontroller.h"
#include "demo.h"
#include "detailpane.h"
#include "eventbrowser.h"
#include "eventactions.h"
#include "eventmodel.h"
#include "fix.h"
#include "failuregroupsview.h"
#include "operationspanel.h"
#include "healthpanel.h"
#include "liverefresh.h"
#include "relayersview.h"
#include "relaypanel.h"
#include "session.h"
#include "testerpanel.h"
#include "textutil.h"
#include "tones.h"

#include <QAction>
#include <QApplication>
#include <QCheckBox>
#include <QClipboard>
#include <QPointer>
#include <QCloseEvent>
#include <QComboBox>
#include <QCompleter>
#include <QDialogButtonBox>
#include <QDir>
#include <QDockWidget>
#include <QDragEnterEvent>
#include <QDropEvent>
#include <QFileDialog>
#include <QFileInfo>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QInputDialog>
#include <QItemSelectionModel>
#include <QLabel>
#include <QLineEdit>
#include <QMenu>
#include <QMenuBar>
#include <QMessageBox>
#include <QMimeData>
#include <QProgressBar>
#include <QPushButton>
#include <QCoreApplication>
#include <QSettings>
#include <QSignalBlocker>
#include <QShortcut>
#include <QSpinBox>
#include <QSplitter>
#include <QStandardItemModel>
#include <QStandardPaths>
#include <QStatusBar>
#include <QTabBar>
#include <QTableView>
#include <QTableWidget>
#include <QToolBar>
#include <QVBoxLayout>

namespace outbox::ui {

namespace {
// How a confirmation names the selection.
QString selectionText(qsizetype n)
{
    return n == 1 ? MainWindow::tr("the selected event") : MainWindow::tr("the %L1 selected events").arg(n);
}
} // namespace

MainWindow::MainWindow(QWidget *parent) : QMainWindow(parent), m_session(new Session(this))
{
    setObjectName(QStringLiteral("MainWindow"));
    setAcceptDrops(true);
    auto *central = new QWidget(this);
    auto *layout = new QVBoxLayout(central);
    layout->setContentsMargins(4, 4, 4, 4);

    m_health = new HealthPanel(central);
    layout->addWidget(m_health);

    m_browser = new EventBrowser(m_session, central);
    m_model = m_browser->model();
    m_table = m_browser->table();
    m_detail = m_browser->detail();
    layout->addWidget(m_browser, 1);
    setCentralWidget(central);

    // The docks: the relay on the right; the receiver, failure groups, operations and relayers tabbed below.
    auto dock = [this](const QString &title, const QString &name, QWidget *widget, Qt::DockWidgetArea area,
                    QDockWidget *tabbedWith) {
        auto *d = new QDockWidget(title, this);
        d->setObjectName(name);
        d->setWidget(widget);
        addDockWidget(area, d);
        if (tabbedWith)
            tabifyDockWidget(tabbedWith, d);
        return d;
    };
    m_relay = new RelayPanel(this);
    dock(tr("Relay"), QStringLiteral("relayDock"), m_relay, Qt::RightDockWidgetArea, nullptr);
    m_tester = new TesterPanel(this);
    QDockWidget *testerDock =
        dock(tr("CloudEvents receiver"), QStringLiteral("testerDock"), m_tester, Qt::BottomDockWidgetArea, nullptr);
    m_failures = new FailureGroupsView(m_session, this);
    QDockWidget *failuresDock =
        dock(tr("Failures by cause"), QStringLiteral("failuresDock"), m_failures, Qt::BottomDockWidgetArea, testerDock);
    m_operations = new OperationsPanel(this);
    QDockWidget *operationsDock =
        dock(tr("Operations"), QStringLiteral("operationsDock"), m_operations, Qt::BottomDockWidgetArea, failuresDock);
    m_relayers = new RelayersView(this);
    dock(tr("Relayers"), QStringLiteral("relayersDock"), m_relayers, Qt::BottomDockWidgetArea, operationsDock);
    failuresDock->raise();

    m_live = new LiveRefresh(m_session, m_browser, this);
    m_actionResult = new QLabel(this);
    m_actionResult->setObjectName(QStringLiteral("actionResult"));
    m_actionResult->setTextFormat(Qt::PlainText);
    statusBar()->addWidget(m_browser->rowsLabel());
    statusBar()->addWidget(m_actionResult, 1);
    statusBar()->addPermanentWidget(m_live->label());
    m_relayBadge = new QLabel(this);
    m_relayBadge->setObjectName(QStringLiteral("relayBadge"));
    statusBar()->addPermanentWidget(m_relayBadge);
    m_readOnlyBadge = new QLabel(tr(" READ-ONLY "), this);
    m_readOnlyBadge->setObjectName(QStringLiteral("readOnlyBadge"));
    m_readOnlyBadge->setStyleSheet(QStringLiteral("color: white; background: #1c71d8; font-weight: bold"));
    m_readOnlyBadge->hide();
    statusBar()->addPermanentWidget(m_readOnlyBadge);

    m_connections = new ConnectionController(m_session, this);
    m_connections->setBusyCheck([this] { return busyReason(); });
    m_actions = new EventActions(m_session, this);
    // Advice to start this console's relayer only when no relayer at all is alive on the outbox.
    m_actions->setRelayerStoppedCheck([this] {
        return m_session->has(Storage::Capability::Relay) && m_relay->state() == RelayPanel::State::Stopped
            && m_health->aliveRelayers() == 0;
    });
    connect(m_actions, &EventActions::progress, m_actionResult, &QLabel::setText);
    connect(m_actions, &EventActions::finished, this, [this](const QString &summary, const QString &, bool) {
        m_actionResult->setText(summary);
        m_table->clearSelection();
        m_model->refresh();
        m_live->readHealth();
        m_failures->refresh();
        m_browser->showCurrentDetail();
        Q_EMIT actionFinished(summary);
    });

    connect(m_actions, &EventActions::operationRecorded, m_operations, &OperationsPanel::addOperation);
    connect(m_operations, &OperationsPanel::showAffectedRequested, this, [this](const Operation &op) {
        m_browser->presetFilters(0); // every status: the events may have moved on since (retried, sent)
        m_browser->restrictTo(op.affected,
            tr("the %L1 event(s) of \u201c%2\u201d at %3")
                .arg(op.affected.size())
                .arg(op.what, QLocale().toString(op.at, QStringLiteral("HH:mm:ss"))));
        m_browser->applyFilters();
    });
    connect(m_relayers, &RelayersView::takeOverRequested, m_actions, &EventActions::takeOver);
    connect(m_failures, &FailureGroupsView::showEventsRequested, m_browser, &EventBrowser::showFailureGroup);
    connect(m_health, &HealthPanel::keyClicked, m_browser, &EventBrowser::showKey);
    connect(m_health, &HealthPanel::eventClicked, m_browser, &EventBrowser::findEvent);
    connect(m_browser, &EventBrowser::message, this,
        [this](const QString &text, int timeoutMs) { statusBar()->showMessage(text, timeoutMs); });
    connect(m_failures, &FailureGroupsView::actionRequested, this,
        [this](EventAction action, const FailureGroup &group, const QList<qint64> &sequences) {
            m_actions->confirmAndRun(action, sequences,
                tr("the %L1 failed event(s) of group %2")
                    .arg(sequences.size())
                    .arg(FailureGroupsView::groupName(group)));
        });

    buildMenus();

    connect(m_connections, &ConnectionController::aboutToOpen, this, &MainWindow::onAboutToOpen);
    connect(m_connections, &ConnectionController::opened, this, &MainWindow::onOpened);
    connect(m_relay, &RelayPanel::relayError, this,
        [this](const QString &message, const QDateTime &at) { m_health->setLastError(message, at); });
    connect(m_tester, &TesterPanel::useAsTargetRequested, this, [this](const QString &url) {
        if (m_relay->state() != RelayPanel::State::Stopped)
            m_relay->stop();
        m_relay->setTargetUrl(url, true);
        statusBar()->showMessage(tr("The relay target is now the local receiver, %1").arg(url), 5000);
    });

    connect(m_live, &LiveRefresh::healthRead, this, &MainWindow::showHealth);
    m_live->setHoldCheck([this] { return m_actions->isRunning() ? tr("waiting for the table") : QString(); });
    loadSettings();
    updateTitle();
}

MainWindow::~MainWindow()
{
    m_live->stop();
    m_model->cancel(); // a scan still running gives way at once, before the session's threads are joined
    m_relay->stopNow();
}

void MainWindow::buildMenus()
{
    auto add = [this](QMenu *menu, const QString &text, const QString &name, const QKeySequence &key, auto slot) {
        QAction *a = menu->addAction(text);
        a->setObjectName(name);
        if (!key.isEmpty())
            a->setShortcut(key);
        connect(a, &QAction::triggered, this, slot);
        return a;
    };
    QMenu *file = menuBar()->addMenu(tr("&File"));
    add(file, tr("&Open outbox file…"), QStringLiteral("openFile"), QKeySequence::Open,
        [this] { m_connections->openFileDialog(false); });
    add(file, tr("&New outbox file…"), QStringLiteral("newFile"), QKeySequence::New,
        [this] { m_connections->openFileDialog(true); });
    add(file, tr("Connect to a database &server…"), QStringLiteral("connectPg"), QKeySequence(tr("Ctrl+Shift+O")),
        [this] { m_connections->connectToServer(); });
    add(file, tr("Open the &demo outbox"), QStringLiteral("openDemo"), QKeySequence(), [this] { openDemo(); });
    m_connections->setRecentMenu(file->addMenu(tr("&Recent")));
    file->addSeparator();
    add(file, tr("&Quit"), QStringLiteral("quit"), QKeySequence::Quit, [this] { close(); });

    QMenu *view = menuBar()->addMenu(tr("&View"));
    add(view, tr("&Refresh"), QStringLiteral("refresh"), QKeySequence::Refresh, [this] { refreshNow(); });
    QAction *pause = add(view, tr("&Pause live refresh"), QStringLiteral("pauseLive"), QKeySequence(Qt::Key_Space),
        [this](bool checked) { setLiveRefreshPaused(checked); });
    pause->setCheckable(true);
    QAction *readOnly = add(view, tr("Read-&only"), QStringLiteral("readOnly"), QKeySequence(),
        [this](bool checked) { setReadOnly(checked); });
    readOnly->setCheckable(true);
    readOnly->setToolTip(tr("No action of this console changes the outbox: for looking at production"));
    add(view, tr("&Find an event"), QStringLiteral("focusFilter"), QKeySequence(Qt::Key_Slash),
        [this] { m_browser->focusFilter(); });
    add(view, tr("&Search payloads"), QStringLiteral("focusSearch"), QKeySequence::Find,
        [this] { m_browser->focusSearch(); });
    view->addSeparator();
    for (QDockWidget *dock : findChildren<QDockWidget *>())
        view->addAction(dock->toggleViewAction());

    QMenu *events = menuBar()->addMenu(tr("&Events"));
    QAction *retry = add(events, tr("&Retry selected"), QStringLiteral("retry"), QKeySequence(Qt::Key_R),
        [this] { runAction(Action::Retry, Scope::Selection); });
    QAction *replay = add(events, tr("Re&play selected"), QStringLiteral("replay"), QKeySequence(tr("Shift+P")),
        [this] { runAction(Action::Replay, Scope::Selection); });
    QAction *remove = add(events, tr("&Delete selected"), QStringLiteral("delete"), QKeySequence::Delete,
        [this] { runAction(Action::Delete, Scope::Selection); });
    events->addSeparator();
    add(events, tr("Retry &all that match…"), QStringLiteral("retryAll"), QKeySequence(),
        [this] { runAction(Action::Retry, Scope::AllMatching); });
    add(events, tr("Replay all that &match…"), QStringLiteral("replayAll"), QKeySequence(),
        [this] { runAction(Action::Replay, Scope::AllMatching); });
    add(events, tr("Delete all that ma&tch…"), QStringLiteral("deleteAll"), QKeySequence(),
        [this] { runAction(Action::Delete, Scope::AllMatching); });
    QAction *retryTo = add(events, tr("Retry selected to another &URL…"), QStringLiteral("retryTo"), QKeySequence(),
        [this] { retrySelectedTo(); });
    retryTo->setToolTip(tr("Send failed events once to another endpoint, leaving the relay target as it is"));
    events->addSeparator();
    QAction *reproduce = add(events, tr("Reproduce in &composer"), QStringLiteral("reproduce"), QKeySequence(),
        [this] { reproduceCurrent(false); });
    QAction *editRetry = add(events, tr("&Edit and retry…"), QStringLiteral("editRetry"), QKeySequence(tr("Shift+E")),
        [this] { reproduceCurrent(true); });
    editRetry->setToolTip(tr("Fix a failed event in the composer and enqueue the fix in its place"));
    add(events, tr("E&xport to JSON lines…"), QStringLiteral("export"), QKeySequence(), [this] {
        const QString path = QFileDialog::getSaveFileName(this, tr("Export events"),
            QDir::home().filePath(QStringLiteral("events.jsonl")), tr("JSON lines (*.jsonl);;All files (*)"));
        if (!path.isEmpty())
            exportEvents(path);
    });
    add(events, tr("Export with delivery &history…"), QStringLiteral("exportHistory"), QKeySequence(), [this] {
        const QString path = QFileDialog::getSaveFileName(this, tr("Export events with their delivery history"),
            QDir::home().filePath(QStringLiteral("events-history.jsonl")), tr("JSON lines (*.jsonl);;All files (*)"));
        if (!path.isEmpty())
            exportEvents(path, true);
    });
    add(events, tr("&Clean up old events…"), QStringLiteral("cleanup"), QKeySequence(), [this] { cleanupOld(); });
    m_releaseStuck = add(events, tr("Release &stuck events…"), QStringLiteral("releaseStuck"), QKeySequence(),
        [this] { releaseStuck(); });
    m_releaseStuck->setEnabled(false);
    m_releaseStuck->setToolTip(tr("Only for romancy and edda outboxes: this engine's leases expire by themselves"));
    QAction *copyId = add(events, tr("Copy &id"), QStringLiteral("copyId"), QKeySequence::Copy, [this] {
        QStringList ids;
        for (const QModelIndex &i : m_table->selectionModel()->selectedRows()) {
            if (const OutboxEvent *e = m_model->eventAt(i.row()))
                ids.append(e->id);
        }
        QApplication::clipboard()->setText(ids.join(QLatin1Char('\n')));
    });
    // A line a colleague runs to see the same event: the outbox's URL without its password.
    QAction *copyLink =
        add(events, tr("Copy &link (command line)"), QStringLiteral("copyLink"), QKeySequence(), [this] {
            const OutboxEvent *e = m_model->eventAt(m_table->currentIndex().row());
            if (!e)
                return;
            QApplication::clipboard()->setText(eventLink(e->id));
        });
    for (QAction *a : {retry, retryTo, replay, remove, reproduce, editRetry, copyId, copyLink})
        m_table->addAction(a);
    // Filters from the row under the operator's hand: this type, source, key, or error (its cause's text).
    m_browser->addFilterActions();

    QMenu *relay = menuBar()->addMenu(tr("&Relay"));
    add(relay, tr("&Start"), QStringLiteral("relayStart"), QKeySequence(tr("Ctrl+Shift+S")),
        [this] { m_relay->start(); });
    add(relay, tr("&Pause"), QStringLiteral("relayPause"), QKeySequence(), [this] { m_relay->pause(); });
    add(relay, tr("S&top"), QStringLiteral("relayStop"), QKeySequence(), [this] { m_relay->stop(); });
    add(relay, tr("Relay &once"), QStringLiteral("relayOnce"), QKeySequence(tr("Ctrl+Shift+1")),
        [this] { m_relay->relayOnce(); });
    // The menu follows the relayer: what cannot be done now is off, and Start reads Resume while paused.
    connect(m_relay, &RelayPanel::controlsChanged, this, &MainWindow::updateRelayControls);
    updateRelayControls();

    QMenu *tools = menuBar()->addMenu(tr("&Tools"));
    add(tools, tr("&Compose an event…"), QStringLiteral("compose"), QKeySequence(tr("Ctrl+E")), [this] {
        composer()->stopFixing();
        composer()->show();
        composer()->raise();
    });
    add(tools, tr("Use the local &receiver as relay target"), QStringLiteral("useReceiver"), QKeySequence(), [this] {
        if (auto *dock = findChild<QDockWidget *>(QStringLiteral("testerDock"))) {
            dock->show();
            dock->raise();
        }
        m_tester->useAsTargetButton()->click();
    });

    QMenu *help = menuBar()->addMenu(tr("&Help"));
    add(help, tr("&Keyboard"), QStringLiteral("keys"), QKeySequence::HelpContents, [this] {
        QMessageBox::information(this, tr("Keyboard"),
            tr("j / k or arrows: move\nEnter: event details\nEsc: clear the selection (live refresh goes on)\n"
               "Tab / Shift+Tab: the next / previous part\n/: find an event (id, subject, key)\n"
               "Ctrl+F: search payloads\nR: retry\nShift+P: replay\nShift+E: edit and retry\nDel: delete\n"
               "Ctrl+C: copy the id\nSpace: pause live refresh\nF5: refresh\nCtrl+E: compose an event\n"
               "Ctrl+Shift+S: start the relayer\nCtrl+Shift+1: relay once\n"
               "Ctrl+Shift+O: connect to a database server\nCtrl+O: open an outbox file\nF1: this list"));
    });
    add(help, tr("&About"), QStringLiteral("about"), QKeySequence(), [this] {
        QMessageBox::about(this, tr("Outbox Console"),
            tr("Outbox Console %1\nA transactional-outbox engine and its operator console.")
                .arg(QApplication::applicationVersion()));
    });
}

QAction *MainWindow::action(const QString &objectName) const
{
    return findChild<QAction *>(objectName);
}

ComposerDialog *MainWindow::composer()
{
    if (!m_composer) {
        m_composer = new ComposerDialog(this);
        m_composer->setCanEnqueue(canEnqueue(), enqueueRefusal());
        if (!m_tester->receiverUrl().isEmpty())
            m_composer->setTargetUrl(m_tester->receiverUrl());
        else if (!m_relay->targetUrl().isEmpty())
            m_composer->setTargetUrl(m_relay->targetUrl());
        connect(m_composer, &ComposerDialog::enqueueRequested, this, &MainWindow::enqueueComposed);
    }
    return m_composer;
}

// ---- opening -------------------------------------------------------------------------------------------

void MainWindow::openLocation(const QString &location)
{
    m_connections->openLocation(location);
}

QString MainWindow::eventLink(const QString &id) const
{
    ConnectionSpec where = m_connections->spec();
    where.password.clear(); // never handed on; the colleague is asked for theirs
    const QString url = where.isFile() ? where.database : where.toUrl();
    auto quoted = [](QString text) {
        return QLatin1Char('\'') + text.replace(QLatin1Char('\''), QStringLiteral("'\\''")) + QLatin1Char('\'');
    };
    return QStringLiteral("outbox-console --event %1 %2").arg(quoted(id), quoted(url));
}

void MainWindow::showEventOnOpen(const QString &id)
{
    m_eventOnOpen = id;
}

void MainWindow::openOutbox(const ConnectionSpec &spec, Storage::OpenMode mode)
{
    m_connections->open(spec, mode);
}

QString MainWindow::lastError() const
{
    return m_connections->lastError();
}

QString MainWindow::busyReason() const
{
    if (m_actions->isRunning())
        return tr("An action on it is still running; it stops where it is.");
    if (m_relay->state() != RelayPanel::State::Stopped)
        return tr("This console's relayer on it is running; it stops.");
    return {};
}

void MainWindow::onAboutToOpen(const ConnectionSpec &spec, bool another)
{
    m_relay->setConnection(spec, false);
    m_browser->resetForOutbox(another);
    if (another) {
        // Nor does another outbox inherit the previous one's relay log, relay error, action result or operations.
        m_relay->clearLog();
        m_actionResult->clear();
        m_operations->clear();
    }
    m_demo = false;
    m_health->clear();
    m_failures->clear();
    m_lastFailedCount = -1;
    statusBar()->showMessage(tr("Opening %1…").arg(spec.displayUrl()));
}

void MainWindow::onOpened(const QString &error)
{
    const bool open = error.isEmpty();
    m_relay->setConnection(m_connections->spec(), open, relayRefusal());
    m_health->setFormat(open ? m_session->formatName() : QString());
    m_relayers->setFormat(open && !m_session->has(Storage::Capability::Relay) ? m_session->formatName() : QString());
    m_detail->setHistoryNote(!open || m_session->has(Storage::Capability::AttemptHistory)
            ? QString()
            : tr("A %1 table keeps no attempt history: only the retry count and the last error (above).")
                  .arg(m_session->formatName()));
    m_releaseStuck->setEnabled(!m_readOnly && open && m_session->has(Storage::Capability::ReleaseStuck));
    if (m_composer)
        m_composer->setCanEnqueue(canEnqueue(), enqueueRefusal());
    updateTitle();
    if (!open) {
        statusBar()->showMessage(tr("Not connected"));
        m_model->setFilter(EventFilter{}); // empties the table: no outbox
        Q_EMIT outboxOpened(error); // the controller then shows the error, or the server dialog again
        return;
    }
    statusBar()->showMessage(tr("Opened %1").arg(m_connections->spec().displayUrl()), 4000);
    if (!m_eventOnOpen.isEmpty()) // outbox-console --event ID: found, selected and shown
        m_browser->findEvent(std::exchange(m_eventOnOpen, QString()));
    // The receiver is a development tool: its dock shows for the demo, or while it runs; View brings it back.
    if (auto *tester = findChild<QDockWidget *>(QStringLiteral("testerDock")))
        tester->setVisible(m_demo || !m_tester->receiverUrl().isEmpty());
    if (m_demo && !m_readOnly)
        populateDemoIfEmpty();
    m_browser->applyFilters();
    m_live->readHealth();
    m_browser->loadCompletions(true);
    // The rate chart starts with the hour before, from the newest 200,000 events' times.
    m_session->call<Result<QList<DeliveryBucket>>>(
        this,
        [](Storage &s) {
            return s.deliveryHistory(
                QDateTime::currentDateTimeUtc().addSecs(-qint64(RateChart::kBucketSeconds) * RateChart::kBuckets),
                RateChart::kBucketSeconds, 200000);
        },
        [this](const Result<QList<DeliveryBucket>> &history) {
            if (history.isOk())
                m_health->seedRateHistory(history.value());
        },
        Session::Lane::Background);
    Q_EMIT outboxOpened(QString());
}

QString MainWindow::demoPath()
{
    return demo::databasePath(); // shared with `outboxctl demo`
}

void MainWindow::openDemo()
{
    openOutbox(ConnectionSpec::sqlite(demoPath()), Storage::OpenMode::CreateIfMissing);
    m_demo = true;
    if (m_tester->startReceiver())
        m_relay->setTargetUrl(m_tester->receiverUrl(), true);
    m_relay->setOutboxFacts(0, {}, true); // the demo relays to its local receiver by design: Start asks nothing
}

void MainWindow::populateDemoIfEmpty()
{
    // Sample events in every state, written the way an application would, then given a delivery history.
    m_session->call<Result<int>>(
        this, [](Storage &storage) { return demo::fillIfEmpty(storage); },
        [this](const Result<int> &filled) {
            if (!filled.isOk())
                statusBar()->showMessage(tr("Could not fill the demo outbox: %1").arg(filled.error().message()), 10000);
            m_model->reload();
            m_live->readHealth();
            m_failures->refresh(); // the groups may have been counted before the fill
        });
}

void MainWindow::updateTitle()
{
    const QString format = m_session->formatName();
    const QString readOnly = m_readOnly ? tr(" [read-only]") : QString();
    if (!m_connections->isOpen())
        setWindowTitle(tr("Outbox Console"));
    else if (format.isEmpty())
        setWindowTitle(tr("%1%2 — Outbox Console").arg(m_connections->spec().displayUrl(), readOnly));
    else
        setWindowTitle(tr("%1 (%2)%3 — Outbox Console").arg(m_connections->spec().displayUrl(), format, readOnly));
}

void MainWindow::dragEnterEvent(QDragEnterEvent *event)
{
    if (event->mimeData()->hasUrls() && event->mimeData()->urls().value(0).isLocalFile())
        event->acceptProposedAction();
}

void MainWindow::dropEvent(QDropEvent *event)
{
    const QUrl url = event->mimeData()->urls().value(0);
    if (url.isLocalFile()) {
        event->acceptProposedAction();
        m_connections->open(ConnectionSpec::sqlite(url.toLocalFile()), Storage::OpenMode::AnyOutbox);
    }
}

// ---- the table -----------------------------------------------------------------------------------------

// ---- actions -------------------------------------------------------------------------------------------

void MainWindow::runAction(Action action, Scope scope)
{
    if (!m_connections->isOpen() || m_actions->isRunning())
        return;
    QList<qint64> seqs;
    QString scopeText;
    if (scope == Scope::Selection) {
        seqs = m_browser->selectedSequences();
        if (seqs.isEmpty()) {
            statusBar()->showMessage(tr("Select one or more events first."), 4000);
            return;
        }
        scopeText = selectionText(seqs.size());
    } else {
        if (!m_browser->allMatching(&seqs))
            return;
        if (seqs.isEmpty()) {
            statusBar()->showMessage(tr("No events match the current filter."), 4000);
            return;
        }
        scopeText = tr("all %L1 events that match: %2").arg(seqs.size()).arg(m_browser->describeFilter());
    }
    m_actions->confirmAndRun(action, seqs, scopeText);
}

void MainWindow::retrySelectedTo()
{
    if (!m_connections->isOpen() || m_actions->isRunning())
        return;
    const QList<qint64> seqs = m_browser->selectedSequences();
    if (seqs.isEmpty()) {
        statusBar()->showMessage(tr("Select one or more failed events first."), 4000);
        return;
    }
    if (!m_session->has(Storage::Capability::Relay)) {
        QMessageBox::information(this, tr("Retry to another URL"), relayRefusal());
        return;
    }
    QInputDialog dialog(this);
    dialog.setObjectName(QStringLiteral("retryToDialog"));
    dialog.setWindowTitle(tr("Retry to another URL"));
    dialog.setLabelText(tr("Send the selected failed events once to this CloudEvents endpoint (the relay's mode and "
                           "timeout; not its headers or signing secret, which belong to its target):"));
    dialog.setTextValue(m_relay->targetUrl());
    if (dialog.exec() != QDialog::Accepted)
        return;
    // The relayer's own check of a target (and of the certificate files it is sent with).
    RelayerConfig config;
    if (QString problem; !m_relay->configFor(dialog.textValue().trimmed(), &config, &problem)) {
        QMessageBox::warning(this, tr("Retry to another URL"), problem);
        return;
    }
    m_actions->retryTo(seqs, config, selectionText(seqs.size()));
}

void MainWindow::exportEvents(const QString &path, bool withState)
{
    if (!m_connections->isOpen())
        return;
    // The selection when there is one, else everything that matches.
    QList<qint64> seqs = m_browser->selectedInOrder();
    QString scope;
    if (!seqs.isEmpty()) {
        scope = tr("the %L1 selected events").arg(seqs.size());
    } else {
        if (!m_browser->allMatching(&seqs))
            return;
        scope = tr("all %L1 events that match: %2").arg(seqs.size()).arg(m_browser->describeFilter());
    }
    m_actions->exportEvents(seqs, path, scope, withState);
}

void MainWindow::cleanupOld()
{
    if (m_connections->isOpen())
        m_actions->cleanupOld();
}

void MainWindow::executeCleanup(const QDateTime &cutoff, const QList<EventStatus> &statuses)
{
    m_actions->executeCleanup(cutoff, statuses);
}

void MainWindow::releaseStuck()
{
    if (m_connections->isOpen() && m_session->has(Storage::Capability::ReleaseStuck))
        m_actions->releaseStuck(m_processing);
}

void MainWindow::executeRelease(const QDateTime &cutoff)
{
    m_actions->executeRelease(cutoff);
}

void MainWindow::reproduceCurrent(bool fix)
{
    const qint64 seq = m_browser->currentSequence();
    if (seq == 0) {
        statusBar()->showMessage(tr("Select an event first."), 4000);
        return;
    }
    m_session->call<Result<QList<OutboxEvent>>>(
        this, [seq](Storage &s) { return s.eventsBySequence({seq}, true); },
        [this, fix](const Result<QList<OutboxEvent>> &r) {
            if (!r.isOk() || r.value().isEmpty())
                return;
            const OutboxEvent &e = r.value().first();
            if (fix && e.status != EventStatus::Failed) {
                QMessageBox::information(this, tr("Edit and retry"),
                    tr("Only a failed event is fixed this way; this one is %1.").arg(EventTableModel::statusLabel(e)));
                return;
            }
            ComposerDialog *c = composer();
            if (fix) {
                c->editForRetry(e);
                // Tried against where this outbox is relayed (empty until the operator sets it), never the
                // local receiver of another outbox.
                c->setTargetUrl(m_relay->targetUrl());
            } else {
                c->stopFixing();
                c->setEvent(e);
            }
            c->show();
            c->raise();
        });
}

bool MainWindow::canEnqueue() const
{
    return m_connections->isOpen() && !m_readOnly && m_session->has(Storage::Capability::Enqueue);
}

void MainWindow::setReadOnly(bool readOnly)
{
    m_readOnly = readOnly;
    if (QAction *a = action(QStringLiteral("readOnly")))
        a->setChecked(readOnly);
    m_actions->setReadOnly(readOnly);
    m_connections->setReadOnly(readOnly); // outboxes opened from now on: nothing written on opening
    m_failures->setReadOnly(readOnly);
    m_relayers->setReadOnly(readOnly);
    for (const char *name :
        {"retry", "retryTo", "replay", "delete", "retryAll", "replayAll", "deleteAll", "cleanup", "editRetry"}) {
        if (QAction *a = action(QLatin1String(name)))
            a->setEnabled(!readOnly);
    }
    m_releaseStuck->setEnabled(
        !readOnly && m_connections->isOpen() && m_session->has(Storage::Capability::ReleaseStuck));
    if (readOnly && m_relay->state() != RelayPanel::State::Stopped)
        m_relay->stop();
    m_relay->setConnection(m_connections->spec(), m_connections->isOpen(), relayRefusal());
    if (m_composer)
        m_composer->setCanEnqueue(canEnqueue(), enqueueRefusal());
    m_readOnlyBadge->setVisible(readOnly);
    updateTitle();
}

void MainWindow::updateRelayControls()
{
    const std::pair<const char *, QPushButton *> mirrors[] = {{"relayStart", m_relay->startButton()},
        {"relayPause", m_relay->pauseButton()}, {"relayStop", m_relay->stopButton()},
        {"relayOnce", m_relay->onceButton()}};
    // An outbox not relayed from here keeps Start and Relay once: they say why.
    const bool explains = m_connections->isOpen() && !relayRefusal().isEmpty();
    for (const auto &[name, button] : mirrors) {
        if (QAction *a = action(QLatin1String(name)))
            a->setEnabled(button->isEnabled()
                || (explains && (button == m_relay->startButton() || button == m_relay->onceButton())));
    }
    if (QAction *a = action(QStringLiteral("relayStart")))
        a->setText(m_relay->state() == RelayPanel::State::Paused ? tr("&Resume") : tr("&Start"));
    // The badge: the console's relayer at a glance, whatever dock is shown.
    QString text;
    QString style;
    switch (m_relay->state()) {
    case RelayPanel::State::Running:
        text = tr("● relaying");
        style = toneStyle(Tone::Good, true);
        break;
    case RelayPanel::State::Paused:
        text = tr("❚❚ relayer paused");
        style = toneStyle(Tone::Warning, true);
        break;
    case RelayPanel::State::Stopping:
        text = tr("relayer stopping…");
        break;
    case RelayPanel::State::Stopped:
        text = !m_connections->isOpen() ? QString()
            : !relayRefusal().isEmpty() ? tr("not relayed from here")
                                        : tr("relayer stopped");
        break;
    }
    m_relayBadge->setText(text);
    m_relayBadge->setStyleSheet(style);
    m_relayBadge->setToolTip(relayRefusal());
}

QString MainWindow::relayRefusal() const
{
    if (m_readOnly)
        return tr("the console is read-only (View ▸ Read-only): relaying would change the outbox");
    return m_session->relayRefusal();
}

QString MainWindow::enqueueRefusal() const
{
    if (!m_connections->isOpen())
        return tr("no outbox is open");
    if (m_readOnly)
        return tr("the console is read-only (View ▸ Read-only)");
    if (!m_session->has(Storage::Capability::Enqueue))
        return tr("events are enqueued into a %1 table by its framework, not from here").arg(m_session->formatName());
    return {};
}

void MainWindow::enqueueComposed(const OutboxEvent &e)
{
    if (!canEnqueue()) {
        composer()->showEnqueueResult(QString(), enqueueRefusal());
        return;
    }
    const FixedOriginal original = composer()->deleteOriginal() ? FixedOriginal::Delete : FixedOriginal::Resolve;
    m_session->call<Result<FixOutcome>>(
        this, [e, original](Storage &s) { return enqueueFix(s, e, original); },
        [this, e, original](const Result<FixOutcome> &r) {
            const bool ok = r.isOk();
            composer()->showEnqueueResult(ok ? r->id : QString(), ok ? QString() : r.error().message());
            if (ok && !e.replayOf.isEmpty()) {
                const QString what = originalOutcomeText(*r, original);
                composer()->resultLabel()->setText(tr("Enqueued the fix %1 of %2; %3").arg(r->id, e.replayOf, what));
                composer()->stopFixing();
                Operation op;
                op.what = tr("Edit & retry");
                op.scope = tr("failed event %1, replaced by %2; %3").arg(e.replayOf, r->id, what);
                op.changed = 1;
                m_actions->recordOperation(op);
            }
            refreshNow();
            m_failures->refresh();
        });
}

// ---- live refresh --------------------------------------------------------------------------------------

void MainWindow::setLiveRefreshPaused(bool paused)
{
    m_live->setPaused(paused);
    if (QAction *a = action(QStringLiteral("pauseLive")))
        a->setChecked(paused);
    QSettings().setValue(QStringLiteral("livePaused"), paused);
}

bool MainWindow::isLiveRefreshPaused() const
{
    return m_live->isPaused();
}

void MainWindow::refreshNow()
{
    m_live->refreshNow();
}

void MainWindow::showHealth(const HealthReading &h)
{
    if (!h.stats.isOk()) {
        statusBar()->showMessage(h.stats.error().message(), 10000);
        return;
    }
    m_health->setStats(h.stats.value(), QDateTime::currentDateTimeUtc());
    m_processing = h.stats.value().processing;
    if (h.relayers.isOk()) {
        m_health->setRelayers(h.relayers.value());
        // Where the other live relayers send (this process's own lanes excepted), for Start's question.
        QStringList targets;
        const QString mine = QStringLiteral(":%1:").arg(QCoreApplication::applicationPid());
        for (const RelayerInfo &r : h.relayers.value()) {
            if (r.state == RelayerInfo::State::Alive && !r.owner.contains(mine) && !r.target.target.isEmpty()
                && !targets.contains(r.target.target))
                targets << r.target.target;
        }
        m_relay->setOutboxFacts(h.stats.value().pending, targets, m_demo);
        if (m_session->has(Storage::Capability::Relay))
            m_relayers->setRelayers(h.relayers.value());
    }
    // The newest failure, at its own time (not the refresh's), for the verdict always; its line gives way to a
    // relay error of this console's relayer while one is shown.
    m_health->setLatestFailure(h.lastFailure, h.lastFailureAt);
    m_browser->updateTabCounts(h.stats.value());
    m_browser->loadCompletions(false); // they follow the outbox, once a minute at most
    // The failure groups follow the failed count (when it changes, they may have).
    // (Every 5 s at most: while many fail, a live refresh would otherwise group them every 1.5 s.)
    if (h.stats.value().failed != m_lastFailedCount
        && (m_lastFailedCount < 0 || !m_groupsClock.isValid() || m_groupsClock.elapsed() > 5000)) {
        m_lastFailedCount = h.stats.value().failed;
        m_groupsClock.start();
        m_failures->refresh();
    }
    Q_EMIT statsRefreshed();
}

void MainWindow::changeEvent(QEvent *event)
{
    QMainWindow::changeEvent(event);
    if (event->type() == QEvent::WindowStateChange && !isMinimized() && m_connections->isOpen())
        refreshNow();
}

// ---- settings ------------------------------------------------------------------------------------------

void MainWindow::loadSettings()
{
    QSettings s;
    if (!restoreGeometry(s.value(QStringLiteral("window/geometry")).toByteArray()))
        resize(1400, 900);
    restoreState(s.value(QStringLiteral("window/state")).toByteArray());
    m_browser->loadSettings(s);
    m_relay->loadSettings();
    setLiveRefreshPaused(s.value(QStringLiteral("livePaused"), false).toBool());
}

void MainWindow::saveSettings()
{
    QSettings s;
    s.setValue(QStringLiteral("window/geometry"), saveGeometry());
    s.setValue(QStringLiteral("window/state"), saveState());
    m_browser->saveSettings(s);
    m_relay->saveSettings();
}

void MainWindow::closeEvent(QCloseEvent *event)
{
    saveSettings();
    m_relay->stopNow();
    QMainWindow::closeEvent(event);
}

} // namespace outbox::ui
