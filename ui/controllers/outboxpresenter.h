// SPDX-License-Identifier: MIT
#pragma once

#include "connectionspec.h"

#include <QElapsedTimer>
#include <QObject>

class QDockWidget;
class QLabel;

namespace outbox::ui {

class ConnectionController;
class EventActions;
class EventBrowser;
class EventCommands;
class FailureGroupsView;
class HealthPanel;
struct HealthReading;
class LiveRefresh;
class OperationsPanel;
class RelayersView;
class RelayPanel;
class Session;
class TesterPanel;

// Keeps the window's parts in step with the open outbox: when another outbox is about to open (nothing of the
// previous one stays: rows, filters, relay log, errors, operations), when it has opened (what its format
// allows, the event asked for on the command line, the demo's sample events, the rate chart's last hour),
// and on every health reading of the live refresh (counts, relayers and where they send, the latest failure,
// tab counts, failure groups when the failed count moves); and after an operator's action or an enqueue.
class OutboxPresenter : public QObject
{
    Q_OBJECT
public:
    struct Parts
    {
        Session *session;
        ConnectionController *connections;
        EventBrowser *browser;
        HealthPanel *health;
        RelayPanel *relay;
        TesterPanel *tester;
        QDockWidget *testerDock;
        FailureGroupsView *failures;
        OperationsPanel *operations;
        RelayersView *relayers;
        LiveRefresh *live;
        EventActions *actions;
        EventCommands *commands;
        QLabel *actionResult;
    };
    OutboxPresenter(const Parts &parts, QObject *parent);

    // The demo outbox in the user's data directory, filled with sample events on first use, with the local
    // receiver started as the relay target.
    void openDemo();
    bool isDemo() const { return m_demo; }
    // The event to find, select and show once the next outbox has opened (outbox-console --event ID).
    void showEventOnOpen(const QString &id) { m_eventOnOpen = id; }
    void setReadOnly(bool readOnly) { m_readOnly = readOnly; }
    // Every operator's actions on the outbox, from the events' history, into the operations panel (in the
    // background; also every 10 s with the health readings).
    void readOperatorHistory();

Q_SIGNALS:
    void message(const QString &text, int timeoutMs); // for the status bar (0: until the next one)
    void outboxOpened(const QString &error); // after every open attempt; empty on success
    void statsRefreshed();

private:
    void aboutToOpen(const ConnectionSpec &spec, bool another);
    void opened(const QString &error);
    void populateDemoIfEmpty();
    void showHealth(const HealthReading &reading);

    Parts m_parts;
    bool m_demo = false;
    bool m_readOnly = false;
    QString m_eventOnOpen;
    qint64 m_lastFailedCount = -1;
    QElapsedTimer m_groupsClock; // when the failure groups last followed the failed count
    QElapsedTimer m_historyClock; // when the operators' history was last read
};

} // namespace outbox::ui
