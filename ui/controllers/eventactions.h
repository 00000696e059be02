// SPDX-License-Identifier: MIT
#pragma once

#include "relayerconfig.h"
#include "storage.h"

#include <QDateTime>
#include <QObject>
#include <QPointer>

#include <functional>

class QWidget;

namespace outbox::ui {

class Session;

enum class EventAction { Retry, Replay, Delete };

// The result of a bulk action on events, done by runBulkAction().
struct BulkResult
{
    ActionSummary summary;
    QString error; // the action stopped here: summary counts what was done before
};

// The non-widget half of an operator action: runs `action` on the events with these sequences, `chunk` events
// per statement, each chunk its own transaction, calling progress(done) after each. Events gone meanwhile are
// counted as skipped.
BulkResult runBulkAction(Storage &storage, EventAction action, const QList<qint64> &sequences, int chunk,
    const std::function<void(qsizetype done)> &progress = {});

// One operator action, as the operations list shows it.
struct Operation
{
    QDateTime at; // when it finished
    QString what; // "Retry", "Delete", "Clean up"…
    QString scope; // exactly what it applied to, with the filter values or the group
    int changed = 0;
    int skipped = 0;
    QString error;
    QList<qint64> affected; // the sequences it was asked to change (empty: cleanup and release, by time)
};

// The operator's actions on the open outbox: retry, replay and delete of chosen events, cleanup of old ones,
// release of a foreign relayer's stuck rows. Each asks first, naming what and how many (Yes by default for a
// retry, which the next failure undoes; Cancel for the rest), runs on the session's Main lane, reports one
// summary and an Operation (operationRecorded) for the operations list.
class EventActions : public QObject
{
    Q_OBJECT
public:
    EventActions(Session *session, QWidget *dialogParent);

    bool isRunning() const { return m_running; }
    // Read-only: every action is refused (the window greys them out; this is the backstop).
    void setReadOnly(bool readOnly) { m_readOnly = readOnly; }
    bool isReadOnly() const { return m_readOnly; }
    // Asked after a retry or replay: whether no relayer of this console runs (the summary then says so).
    void setRelayerStoppedCheck(std::function<bool()> check) { m_relayerStopped = std::move(check); }

    // Confirms, then runs. scopeText names the events ("the 3 selected events", "the 12 events of group …").
    void confirmAndRun(EventAction action, const QList<qint64> &sequences, const QString &scopeText);
    void run(EventAction action, const QList<qint64> &sequences, const QString &scopeText);
    void cleanupOld();
    void executeCleanup(const QDateTime &cutoff, const QList<EventStatus> &statuses);
    // Writes the events with these sequences, in this order, to a file as JSON lines: one CloudEvent in
    // structured mode per line (data byte for byte where it is JSON, else data_base64). Changes nothing in the
    // outbox, so it runs in read-only mode too.
    // One structured CloudEvent per line; withState: each line {"event": the CloudEvent, "status", "attempts",
    // "last_http_status", "last_error", "created_at", "sent_at", "history": [its attempts]}.
    void exportEvents(
        const QList<qint64> &sequences, const QString &path, const QString &scopeText, bool withState = false);
    // A foreign outbox: `processing` is how many rows are marked so now (for the dialog's explanation).
    void releaseStuck(qint64 processing);
    void executeRelease(const QDateTime &cutoff);
    // A relayer found gone: its leased events are released for the others at once (Yes by default: it is gone,
    // and the storage refuses when its lock shows it came back).
    void takeOver(const RelayerInfo &gone);
    // Failed events sent once to another URL (a retry redirect): after a confirmation (Yes by default), those
    // still failed are taken under a lease of this console (Storage::takeFailed, with an operator entry),
    // sent with `config` (its target is the other URL), and each marked sent, or failed again with the new
    // error. The rest are skipped: not failed, or held by another console.
    void retryTo(const QList<qint64> &sequences, const RelayerConfig &config, const QString &scopeText);

    static QString verb(EventAction action);
    // An action done elsewhere (an edit & retry from the composer), for the operations list.
    void recordOperation(const Operation &operation) { record(operation); }

Q_SIGNALS:
    void progress(const QString &text);
    // After every action, also one that changed nothing or failed; changed: the outbox may differ.
    void finished(const QString &summary, const QString &error, bool changed);
    void operationRecorded(const Operation &operation);

private:
    void record(Operation op);
    bool refuseWhenReadOnly();
    // After counting what an action would touch: the error, or `none` when nothing, or the question (Cancel
    // by default), then execute() on Yes.
    void confirmCount(const QString &title, const Result<qint64> &count, const QString &none, const QString &question,
        const std::function<void()> &execute);

    Session *m_session;
    QPointer<QWidget> m_parent;
    bool m_running = false;
    bool m_readOnly = false;
    std::function<bool()> m_relayerStopped;
};

} // namespace outbox::ui
