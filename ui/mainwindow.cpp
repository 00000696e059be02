// SPDX-License-Identifier: MIT
#include "mainwindow.h"

#include "menuaction.h"

#include "connectioncontroller.h"
#include "demo.h"
#include "eventactions.h"
#include "eventbrowser.h"
#include "eventcommands.h"
#include "eventmodel.h"
#include "failuregroupsview.h"
#include "healthpanel.h"
#include "helpmenu.h"
#include "liverefresh.h"
#include "operationspanel.h"
#include "outboxpresenter.h"
#include "relayersview.h"
#include "relaymenu.h"
#include "relaypanel.h"
#include "session.h"
#include "testerpanel.h"
#include "hovertext.h"
#include "textutil.h"

#include <QAction>
#include <QCloseEvent>
#include <QDockWidget>
#include <QScreen>
#include <QTableView>
#include <QTreeView>
#include <QDragEnterEvent>
#include <QDropEvent>
#include <QLabel>
#include <QMenuBar>
#include <QMimeData>
#include <QSettings>
#include <QStatusBar>
#include <QTimer>
#include <QVBoxLayout>

namespace outbox::ui {

// (Long: the assembly itself, the parts created, laid out and wired in the order the window shows them.)
MainWindow::MainWindow(QWidget *parent) : QMainWindow(parent), m_session(new Session(this))
{
    setObjectName(QStringLiteral("MainWindow"));
    setAcceptDrops(true);
    // A list or table with the keyboard focus shows a ring in the palette's highlight (the styles draw none
    // around a whole view), so Tab from part to part can be followed by eye.
    setStyleSheet(QStringLiteral("QAbstractItemView:focus { border: 2px solid palette(highlight); }"));
    auto *central = new QWidget(this);
    auto *layout = new QVBoxLayout(central);
    layout->setContentsMargins(4, 4, 4, 4);

    m_health = new HealthPanel(central);
    layout->addWidget(m_health);

    m_browser = new EventBrowser(m_session, central);
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
    m_actionResult->setSizePolicy(QSizePolicy::Ignored, QSizePolicy::Preferred); // cut, never a wider window
    statusBar()->addWidget(m_browser->rowsLabel());
    statusBar()->addWidget(m_actionResult, 1);
    statusBar()->addPermanentWidget(m_live->label());
    m_relayMenu = new RelayMenu(
        m_relay, [this] { return m_connections->isOpen(); }, [this] { return relayRefusal(); }, this);
    statusBar()->addPermanentWidget(m_relayMenu->badge());
    m_readOnlyBadge = new QLabel(tr(" READ-ONLY "), this);
    m_readOnlyBadge->setObjectName(QStringLiteral("readOnlyBadge"));
    m_readOnlyBadge->setStyleSheet(QStringLiteral("color: white; background: #1c71d8; font-weight: bold"));
    m_readOnlyBadge->hide();
    statusBar()->addPermanentWidget(m_readOnlyBadge);

    m_connections = new ConnectionController(m_session, this);
    // Why replacing the open outbox needs a confirmation (an action or the relayer works on it), or empty.
    m_connections->setBusyCheck([this] {
        return m_actions->isRunning() ? tr("An action on it is still running; it stops where it is.")
            : m_relay->state() != RelayPanel::State::Stopped ? tr("This console's relayer on it is running; it stops.")
                                                             : QString();
    });
    m_actions = new EventActions(m_session, this);
    m_commands = new EventCommands({m_session, m_connections, m_browser, m_actions, m_relay, m_tester}, this);
    connect(m_commands, &EventCommands::message, this,
        [this](const QString &text, int timeoutMs) { statusBar()->showMessage(text, timeoutMs); });
    // Advice to start this console's relayer only when no relayer at all is alive on the outbox.
    m_actions->setRelayerStoppedCheck([this] {
        return m_session->has(Storage::Capability::Relay) && m_relay->state() == RelayPanel::State::Stopped
            && m_health->aliveRelayers() == 0;
    });
    connect(m_actions, &EventActions::progress, m_actionResult, &QLabel::setText);

    connect(m_actions, &EventActions::operationRecorded, m_operations, &OperationsPanel::addOperation);
    connect(m_actions, &EventActions::operationRecorded, this, [this] { m_presenter->readOperatorHistory(); });
    connect(m_operations, &OperationsPanel::showAffectedRequested, this, [this](const Operation &op) {
        m_browser->presetFilters(0); // every status: the events may have moved on since (retried, sent)
        m_browser->restrictTo(op.affected,
            tr("the %L1 event(s) of \u201c%2\u201d at %3")
                .arg(op.affected.size())
                .arg(op.what, QLocale().toString(op.at, QStringLiteral("HH:mm:ss"))));
        m_browser->applyFilters();
    });
    connect(m_relayers, &RelayersView::takeOverRequested, m_actions, &EventActions::takeOver);
    connect(m_relayers, &RelayersView::relayerTakenOver, this, [this](const RelayerInfo &gone) {
        const QString line = tr("Relayer %1 (gone) was taken over: its %L2 event(s) are due again for the others")
                                 .arg(gone.owner)
                                 .arg(gone.held);
        m_relay->note(line);
        statusBar()->showMessage(line, 15000);
    });
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

    m_presenter =
        new OutboxPresenter({m_session, m_connections, m_browser, m_health, m_relay, m_tester, testerDock, m_failures,
                                m_operations, m_relayers, m_live, m_actions, m_commands, m_actionResult},
            this);
    connect(m_presenter, &OutboxPresenter::message, this,
        [this](const QString &text, int timeoutMs) { statusBar()->showMessage(text, timeoutMs); });
    connect(m_presenter, &OutboxPresenter::outboxOpened, this, [this](const QString &error) {
        updateTitle();
        Q_EMIT outboxOpened(error); // the controller then shows the error, or the server dialog again
    });
    connect(m_presenter, &OutboxPresenter::statsRefreshed, this, &MainWindow::statsRefreshed);
    // (After the presenter has shown the action's outcome.)
    connect(m_actions, &EventActions::finished, this,
        [this](const QString &summary, const QString &, bool) { Q_EMIT actionFinished(summary); });
    connect(m_relay, &RelayPanel::relayError, this,
        [this](const QString &message, const QDateTime &at) { m_health->setLastError(message, at); });
    connect(m_tester, &TesterPanel::useAsTargetRequested, this, [this](const QString &url) {
        if (m_relay->state() != RelayPanel::State::Stopped)
            m_relay->stop();
        m_relay->setTargetUrl(url, true);
        statusBar()->showMessage(tr("The relay target is now the local receiver, %1").arg(url), 5000);
    });

    m_live->setHoldCheck([this] { return m_actions->isRunning() ? tr("waiting for the table") : QString(); });
    for (QAbstractItemView *view : findChildren<QAbstractItemView *>()) {
        if (qobject_cast<QTableView *>(view) || qobject_cast<QTreeView *>(view))
            showCutTextOnHover(view);
    }
    loadSettings();
    updateTitle();
}

MainWindow::~MainWindow()
{
    m_live->stop();
    m_browser->model()->cancel(); // a scan still running gives way at once, before the session's threads are joined
    m_relay->stopNow();
}

void MainWindow::buildMenus()
{
    auto add = [this](QMenu *menu, const QString &text, const QString &name, const QKeySequence &key, auto slot) {
        return addMenuAction(menu, text, name, key, this, slot);
    };
    QMenu *file = menuBar()->addMenu(tr("&File"));
    m_connections->buildMenu(file, [this] { openDemo(); });
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

    m_commands->buildMenu(menuBar()->addMenu(tr("&Events")));
    // Filters from the row under the operator's hand: this type, source, key, or error (its cause's text).
    m_browser->addFilterActions();

    m_relayMenu->buildMenu(menuBar()->addMenu(tr("&Relay")));

    m_commands->buildToolsMenu(
        menuBar()->addMenu(tr("&Tools")), findChild<QDockWidget *>(QStringLiteral("testerDock")));

    addHelpMenu(menuBar()->addMenu(tr("&Help")), this);
}

QAction *MainWindow::action(const QString &objectName) const
{
    return findChild<QAction *>(objectName);
}

ComposerDialog *MainWindow::composer()
{
    return m_commands->composer();
}

// ---- opening -------------------------------------------------------------------------------------------

void MainWindow::openLocation(const QString &location)
{
    m_connections->openLocation(location);
}

QString MainWindow::eventLink(const QString &id) const
{
    return m_commands->eventLink(id);
}

void MainWindow::showEventOnOpen(const QString &id)
{
    m_presenter->showEventOnOpen(id);
}

void MainWindow::openOutbox(const ConnectionSpec &spec, Storage::OpenMode mode)
{
    m_connections->open(spec, mode);
}

QString MainWindow::lastError() const
{
    return m_connections->lastError();
}

QString MainWindow::demoPath()
{
    return demo::databasePath(); // shared with `outboxctl demo`
}

void MainWindow::openDemo()
{
    m_presenter->openDemo();
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

// ---- actions -------------------------------------------------------------------------------------------

void MainWindow::runAction(Action action, Scope scope)
{
    m_commands->run(
        action, scope == Scope::Selection ? EventCommands::Scope::Selection : EventCommands::Scope::AllMatching);
}

void MainWindow::exportEvents(const QString &path, bool withState)
{
    m_commands->exportEvents(path, withState);
}

bool MainWindow::canEnqueue() const
{
    return m_commands->canEnqueue();
}

QString MainWindow::enqueueRefusal() const
{
    return m_commands->enqueueRefusal();
}

QString MainWindow::relayRefusal() const
{
    return m_commands->relayRefusal();
}

void MainWindow::setReadOnly(bool readOnly)
{
    m_readOnly = readOnly;
    if (QAction *a = action(QStringLiteral("readOnly")))
        a->setChecked(readOnly);
    m_actions->setReadOnly(readOnly);
    m_presenter->setReadOnly(readOnly);
    m_connections->setReadOnly(readOnly); // outboxes opened from now on: nothing written on opening
    m_failures->setReadOnly(readOnly);
    m_relayers->setReadOnly(readOnly);
    m_commands->setReadOnly(readOnly);
    if (readOnly && m_relay->state() != RelayPanel::State::Stopped)
        m_relay->stop();
    m_relay->setConnection(m_connections->spec(), m_connections->isOpen(), relayRefusal());
    m_readOnlyBadge->setVisible(readOnly);
    updateTitle();
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
    const QRect screen = this->screen()->availableGeometry();
    if (!restoreGeometry(s.value(QStringLiteral("window/geometry")).toByteArray()))
        resize(QSize(1800, 1100).boundedTo(screen.size() * 0.94));
    else if (!screen.contains(geometry()))
        resize(size().boundedTo(screen.size())); // saved on a larger screen
    if (!restoreState(s.value(QStringLiteral("window/state")).toByteArray()))
        arrangeDocks(screen.height() < 900);
    m_browser->loadSettings(s);
    m_relay->loadSettings();
    setLiveRefreshPaused(s.value(QStringLiteral("livePaused"), false).toBool());
}

void MainWindow::arrangeDocks(bool shortScreen)
{
    auto *relay = findChild<QDockWidget *>(QStringLiteral("relayDock"));
    const QList<QDockWidget *> below = {findChild<QDockWidget *>(QStringLiteral("testerDock")),
        findChild<QDockWidget *>(QStringLiteral("failuresDock")),
        findChild<QDockWidget *>(QStringLiteral("operationsDock")),
        findChild<QDockWidget *>(QStringLiteral("relayersDock"))};
    if (shortScreen) {
        // On a short screen every dock is a tab of the right column: the events keep the height.
        for (QDockWidget *d : below) {
            addDockWidget(Qt::RightDockWidgetArea, d);
            tabifyDockWidget(relay, d);
        }
        relay->raise();
    }
    // Once the window has its size: the relay column narrow, the docks below about a fifth of the height.
    QTimer::singleShot(0, this, [this, relay, below, shortScreen] {
        resizeDocks({relay}, {qBound(300, width() / 4, 420)}, Qt::Horizontal);
        if (!shortScreen)
            resizeDocks({below.at(1)}, {qMax(130, height() / 5)}, Qt::Vertical);
    });
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
