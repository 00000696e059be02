// SPDX-License-Identifier: MIT
#pragma once

#include "eventactions.h"

#include <QObject>

class QMenu;
class QAction;
class QDockWidget;
class QWidget;

namespace outbox::ui {

class ComposerDialog;
class ConnectionController;
class EventBrowser;
class RelayPanel;
class Session;
class TesterPanel;

// The Events menu: what an operator does to the events in the table. It turns the table's selection (or
// everything the filters match) into the scope of an EventActions operation, asks for what an operation needs
// (the other URL of a retry, the file of an export), and opens the composer to reproduce an event or to edit
// and retry a failed one, enqueueing the fix through the engine (engine/operate/fix.h). No database work of
// its own: the session's thread does it.
class EventCommands : public QObject
{
    Q_OBJECT
public:
    enum class Scope { Selection, AllMatching };

    struct Parts
    {
        Session *session;
        ConnectionController *connections;
        EventBrowser *browser;
        EventActions *actions;
        RelayPanel *relay;
        TesterPanel *tester;
    };
    EventCommands(const Parts &parts, QWidget *window);

    // Adds the menu's actions (with their object names and shortcuts), and the row actions to the table's
    // context menu.
    void buildMenu(QMenu *events);
    // The Tools menu: the composer, and the local receiver (in testerDock) as the relay target.
    void buildToolsMenu(QMenu *tools, QDockWidget *testerDock);

    void run(EventAction action, Scope scope);
    // The selected failed events sent once to a URL the operator gives.
    void retrySelectedTo();
    // The selected events, or all that match, to a file of JSON lines.
    void exportEvents(const QString &path, bool withState = false);
    // The current event in the composer: a copy to send anew, or (fix) a failed one to edit and enqueue.
    void reproduceCurrent(bool fix);
    // "outbox-console --event 'ID' 'URL'" for the open outbox (its password left out), for a colleague.
    QString eventLink(const QString &id) const;

    ComposerDialog *composer(); // created on first use
    // Read-only: the actions that change the outbox are off, and so is the composer's enqueue.
    void setReadOnly(bool readOnly);
    // After an outbox opened (or failed to): what the format allows.
    void outboxChanged();
    // A foreign outbox's rows marked "processing", at the last refresh (Release stuck events names them).
    void setProcessing(qint64 rows) { m_processing = rows; }
    bool canEnqueue() const;
    QString enqueueRefusal() const;
    // Why this console does not relay the open outbox (empty: it may).
    QString relayRefusal() const;

Q_SIGNALS:
    void message(const QString &text, int timeoutMs);
    void enqueued(); // the composer enqueued (an event or a fix): the window refreshes what shows the outbox

private:
    void enqueueComposed(const OutboxEvent &event);

    Parts m_parts;
    QWidget *m_window;
    ComposerDialog *m_composer = nullptr;
    QAction *m_releaseStuck = nullptr;
    bool m_readOnly = false;
    qint64 m_processing = 0;
};

} // namespace outbox::ui
