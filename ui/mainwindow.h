// SPDX-License-Identifier: MIT
#pragma once

#include "connectionspec.h"
#include "eventactions.h"
#include "storage.h"

#include <QMainWindow>

class QAction;
class QLabel;

namespace outbox::ui {

class ComposerDialog;
class ConnectionController;
class EventActions;
class EventBrowser;
class EventCommands;
class FailureGroupsView;
class OperationsPanel;
class OutboxPresenter;
class RelayersView;
class HealthPanel;
class LiveRefresh;
class RelayMenu;
class RelayPanel;
class Session;
class TesterPanel;

// The operator console's window: health at the top, the event table with status tabs, filters and payload
// search in the middle, the selected event in full beside it; relay controls and the CloudEvents tester in
// docks. All database work runs on the session's thread.
class MainWindow : public QMainWindow
{
    Q_OBJECT
public:
    using Action = EventAction;
    enum class Scope { Selection, AllMatching };

    explicit MainWindow(QWidget *parent = nullptr);
    ~MainWindow() override;

    // Opens FILE_OR_URL: a postgresql:// or sqlite: URL, or the path of an existing outbox file.
    void openLocation(const QString &location);
    // The event to find, select and show once the next outbox has opened (outbox-console --event ID).
    void showEventOnOpen(const QString &id);
    // "outbox-console --event 'ID' 'URL'" for this outbox (its password left out), for a colleague.
    QString eventLink(const QString &id) const;
    void openOutbox(const ConnectionSpec &spec, Storage::OpenMode mode);
    // The demo outbox in the user's data directory, filled with sample events on first use, with the local
    // receiver started as the relay target.
    void openDemo();
    static QString demoPath();

    // Operator actions of the Events menu (EventCommands; they confirm first).
    void runAction(Action action, Scope scope);
    // The selected events, or all that match, to a file of JSON lines (Events ▸ Export).
    void exportEvents(const QString &path, bool withState = false);
    // Whether the open outbox takes events from the composer, and why not.
    bool canEnqueue() const;
    QString enqueueRefusal() const;
    // Why this console does not relay the open outbox (empty: it may).
    QString relayRefusal() const;
    // Read-only: no action of this console can change the outbox (retry, replay, delete, cleanup, release,
    // enqueue, relaying are off), for looking at production.
    void setReadOnly(bool readOnly);
    bool isReadOnly() const { return m_readOnly; }
    void setLiveRefreshPaused(bool paused);
    bool isLiveRefreshPaused() const;
    void refreshNow();

    // The parts (tests and the benchmark find the widgets inside by their object names).
    Session *session() const { return m_session; }
    EventBrowser *eventBrowser() const { return m_browser; }
    QAction *action(const QString &objectName) const;
    ComposerDialog *composer(); // created on first use
    QString lastError() const;

Q_SIGNALS:
    void outboxOpened(const QString &error); // after every open attempt; empty on success
    void actionFinished(const QString &summary);
    void statsRefreshed();

protected:
    void closeEvent(QCloseEvent *event) override;
    void dragEnterEvent(QDragEnterEvent *event) override;
    void dropEvent(QDropEvent *event) override;
    void changeEvent(QEvent *event) override;

private:
    void buildMenus();
    void updateTitle();
    void loadSettings();
    // The docks' first arrangement (no saved one): below the events, or all tabbed on the right on a short screen.
    void arrangeDocks(bool shortScreen);
    void saveSettings();

    Session *m_session;
    EventActions *m_actions = nullptr;
    EventCommands *m_commands = nullptr;
    RelayMenu *m_relayMenu = nullptr;
    ConnectionController *m_connections;

    HealthPanel *m_health;
    EventBrowser *m_browser;
    RelayPanel *m_relay;
    TesterPanel *m_tester;
    FailureGroupsView *m_failures;
    OperationsPanel *m_operations;
    RelayersView *m_relayers;
    QLabel *m_actionResult;

    LiveRefresh *m_live;
    bool m_readOnly = false;
    QLabel *m_readOnlyBadge = nullptr;
    OutboxPresenter *m_presenter = nullptr;
};

} // namespace outbox::ui
