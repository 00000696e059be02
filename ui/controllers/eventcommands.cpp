// SPDX-License-Identifier: MIT
#include "eventcommands.h"

#include "menuaction.h"

#include "composerdialog.h"
#include "connectioncontroller.h"
#include "eventbrowser.h"
#include "eventmodel.h"
#include "fix.h"
#include "relaypanel.h"
#include "session.h"
#include "testerpanel.h"

#include <QAction>
#include <QApplication>
#include <QClipboard>
#include <QDir>
#include <QDockWidget>
#include <QFileDialog>
#include <QInputDialog>
#include <QItemSelectionModel>
#include <QLabel>
#include <QMenu>
#include <QMessageBox>
#include <QPushButton>
#include <QTableView>

namespace outbox::ui {

namespace {
// How a confirmation names the selection.
QString selectionText(qsizetype n)
{
    return n == 1 ? EventCommands::tr("the selected event") : EventCommands::tr("the %L1 selected events").arg(n);
}
} // namespace

EventCommands::EventCommands(const Parts &parts, QWidget *window)
    : QObject(window), m_parts(parts), m_window(window) { }

void EventCommands::buildMenu(QMenu *events)
{
    auto add = [this, events](const QString &text, const QString &name, const QKeySequence &key, auto slot) {
        return addMenuAction(events, text, name, key, this, slot);
    };
    QAction *retry = add(tr("&Retry selected"), QStringLiteral("retry"), QKeySequence(Qt::Key_R),
        [this] { run(EventAction::Retry, Scope::Selection); });
    QAction *replay = add(tr("Re&play selected"), QStringLiteral("replay"), QKeySequence(tr("Shift+P")),
        [this] { run(EventAction::Replay, Scope::Selection); });
    QAction *remove = add(tr("&Delete selected"), QStringLiteral("delete"), QKeySequence::Delete,
        [this] { run(EventAction::Delete, Scope::Selection); });
    events->addSeparator();
    add(tr("Retry &all that match…"), QStringLiteral("retryAll"), QKeySequence(),
        [this] { run(EventAction::Retry, Scope::AllMatching); });
    add(tr("Replay all that &match…"), QStringLiteral("replayAll"), QKeySequence(),
        [this] { run(EventAction::Replay, Scope::AllMatching); });
    add(tr("Delete all that ma&tch…"), QStringLiteral("deleteAll"), QKeySequence(),
        [this] { run(EventAction::Delete, Scope::AllMatching); });
    QAction *retryTo = add(tr("Retry selected to another &URL…"), QStringLiteral("retryTo"), QKeySequence(),
        [this] { retrySelectedTo(); });
    retryTo->setToolTip(tr("Send failed events once to another endpoint, leaving the relay target as it is"));
    events->addSeparator();
    QAction *reproduce = add(
        tr("Reproduce in &composer"), QStringLiteral("reproduce"), QKeySequence(), [this] { reproduceCurrent(false); });
    QAction *editRetry = add(tr("&Edit and retry…"), QStringLiteral("editRetry"), QKeySequence(tr("Shift+E")),
        [this] { reproduceCurrent(true); });
    editRetry->setToolTip(tr("Fix a failed event in the composer and enqueue the fix in its place"));
    add(tr("E&xport to JSON lines…"), QStringLiteral("export"), QKeySequence(), [this] {
        const QString path = QFileDialog::getSaveFileName(m_window, tr("Export events"),
            QDir::home().filePath(QStringLiteral("events.jsonl")), tr("JSON lines (*.jsonl);;All files (*)"));
        if (!path.isEmpty())
            exportEvents(path);
    });
    add(tr("Export with delivery &history…"), QStringLiteral("exportHistory"), QKeySequence(), [this] {
        const QString path = QFileDialog::getSaveFileName(m_window, tr("Export events with their delivery history"),
            QDir::home().filePath(QStringLiteral("events-history.jsonl")), tr("JSON lines (*.jsonl);;All files (*)"));
        if (!path.isEmpty())
            exportEvents(path, true);
    });
    add(tr("&Clean up old events…"), QStringLiteral("cleanup"), QKeySequence(), [this] {
        if (m_parts.connections->isOpen())
            m_parts.actions->cleanupOld();
    });
    m_releaseStuck = add(tr("Release &stuck events…"), QStringLiteral("releaseStuck"), QKeySequence(), [this] {
        if (m_parts.connections->isOpen() && m_parts.session->has(Storage::Capability::ReleaseStuck))
            m_parts.actions->releaseStuck(m_processing);
    });
    m_releaseStuck->setEnabled(false);
    m_releaseStuck->setToolTip(tr("Only for romancy and edda outboxes: this engine's leases expire by themselves"));
    QTableView *table = m_parts.browser->table();
    QAction *copyId = add(tr("Copy &id"), QStringLiteral("copyId"), QKeySequence::Copy, [this, table] {
        QStringList ids;
        for (const QModelIndex &i : table->selectionModel()->selectedRows()) {
            if (const OutboxEvent *e = m_parts.browser->model()->eventAt(i.row()))
                ids.append(e->id);
        }
        QApplication::clipboard()->setText(ids.join(QLatin1Char('\n')));
    });
    // A line a colleague runs to see the same event: the outbox's URL without its password.
    QAction *copyLink = add(tr("Copy &link (command line)"), QStringLiteral("copyLink"), QKeySequence(), [this, table] {
        if (const OutboxEvent *e = m_parts.browser->model()->eventAt(table->currentIndex().row()))
            QApplication::clipboard()->setText(eventLink(e->id));
    });
    for (QAction *a : {retry, retryTo, replay, remove, reproduce, editRetry, copyId, copyLink})
        table->addAction(a);
}

void EventCommands::buildToolsMenu(QMenu *tools, QDockWidget *testerDock)
{
    QAction *compose = tools->addAction(tr("&Compose an event…"));
    compose->setObjectName(QStringLiteral("compose"));
    compose->setShortcut(QKeySequence(tr("Ctrl+E")));
    connect(compose, &QAction::triggered, this, [this] {
        composer()->stopFixing();
        composer()->show();
        composer()->raise();
    });
    QAction *useReceiver = tools->addAction(tr("Use the local &receiver as relay target"));
    useReceiver->setObjectName(QStringLiteral("useReceiver"));
    connect(useReceiver, &QAction::triggered, this, [this, testerDock] {
        testerDock->show();
        testerDock->raise();
        m_parts.tester->useAsTargetButton()->click();
    });
}

QString EventCommands::eventLink(const QString &id) const
{
    ConnectionSpec where = m_parts.connections->spec();
    where.password.clear(); // never handed on; the colleague is asked for theirs
    const QString url = where.isFile() ? where.database : where.toUrl();
    auto quoted = [](QString text) {
        return QLatin1Char('\'') + text.replace(QLatin1Char('\''), QStringLiteral("'\\''")) + QLatin1Char('\'');
    };
    return QStringLiteral("outbox-console --event %1 %2").arg(quoted(id), quoted(url));
}

void EventCommands::run(EventAction action, Scope scope)
{
    if (!m_parts.connections->isOpen() || m_parts.actions->isRunning())
        return;
    QList<qint64> seqs;
    QString scopeText;
    if (scope == Scope::Selection) {
        seqs = m_parts.browser->selectedSequences();
        if (seqs.isEmpty()) {
            Q_EMIT message(tr("Select one or more events first."), 4000);
            return;
        }
        scopeText = selectionText(seqs.size());
    } else {
        if (!m_parts.browser->allMatching(&seqs))
            return;
        if (seqs.isEmpty()) {
            Q_EMIT message(tr("No events match the current filter."), 4000);
            return;
        }
        scopeText = tr("all %L1 events that match: %2").arg(seqs.size()).arg(m_parts.browser->describeFilter());
    }
    m_parts.actions->confirmAndRun(action, seqs, scopeText);
}

void EventCommands::retrySelectedTo()
{
    if (!m_parts.connections->isOpen() || m_parts.actions->isRunning())
        return;
    const QList<qint64> seqs = m_parts.browser->selectedSequences();
    if (seqs.isEmpty()) {
        Q_EMIT message(tr("Select one or more failed events first."), 4000);
        return;
    }
    if (!m_parts.session->has(Storage::Capability::Relay)) {
        QMessageBox::information(m_window, tr("Retry to another URL"), relayRefusal());
        return;
    }
    QInputDialog dialog(m_window);
    dialog.setObjectName(QStringLiteral("retryToDialog"));
    dialog.setWindowTitle(tr("Retry to another URL"));
    dialog.setLabelText(tr("Send the selected failed events once to this CloudEvents endpoint (the relay's mode and "
                           "timeout; not its headers or signing secret, which belong to its target):"));
    dialog.setTextValue(m_parts.relay->targetUrl());
    if (dialog.exec() != QDialog::Accepted)
        return;
    // The relayer's own check of a target (and of the certificate files it is sent with).
    RelayerConfig config;
    if (QString problem; !m_parts.relay->configFor(dialog.textValue().trimmed(), &config, &problem)) {
        QMessageBox::warning(m_window, tr("Retry to another URL"), problem);
        return;
    }
    m_parts.actions->retryTo(seqs, config, selectionText(seqs.size()));
}

void EventCommands::exportEvents(const QString &path, bool withState)
{
    if (!m_parts.connections->isOpen())
        return;
    // The selection when there is one, else everything that matches.
    QList<qint64> seqs = m_parts.browser->selectedInOrder();
    QString scope;
    if (!seqs.isEmpty()) {
        scope = tr("the %L1 selected events").arg(seqs.size());
    } else {
        if (!m_parts.browser->allMatching(&seqs))
            return;
        scope = tr("all %L1 events that match: %2").arg(seqs.size()).arg(m_parts.browser->describeFilter());
    }
    m_parts.actions->exportEvents(seqs, path, scope, withState);
}

void EventCommands::reproduceCurrent(bool fix)
{
    const qint64 seq = m_parts.browser->currentSequence();
    if (seq == 0) {
        Q_EMIT message(tr("Select an event first."), 4000);
        return;
    }
    m_parts.session->call<Result<QList<OutboxEvent>>>(
        this, [seq](Storage &s) { return s.eventsBySequence({seq}, true); },
        [this, fix](const Result<QList<OutboxEvent>> &r) {
            if (!r.isOk() || r.value().isEmpty())
                return;
            const OutboxEvent &e = r.value().first();
            if (fix && e.status != EventStatus::Failed) {
                QMessageBox::information(m_window, tr("Edit and retry"),
                    tr("Only a failed event is fixed this way; this one is %1.").arg(EventTableModel::statusLabel(e)));
                return;
            }
            ComposerDialog *c = composer();
            if (fix) {
                c->editForRetry(e);
                // Tried against where this outbox is relayed (empty until the operator sets it), never the
                // local receiver of another outbox.
                c->setTargetUrl(m_parts.relay->targetUrl());
            } else {
                c->stopFixing();
                c->setEvent(e);
            }
            c->show();
            c->raise();
        });
}

ComposerDialog *EventCommands::composer()
{
    if (!m_composer) {
        m_composer = new ComposerDialog(m_window);
        m_composer->setCanEnqueue(canEnqueue(), enqueueRefusal());
        if (!m_parts.tester->receiverUrl().isEmpty())
            m_composer->setTargetUrl(m_parts.tester->receiverUrl());
        else if (!m_parts.relay->targetUrl().isEmpty())
            m_composer->setTargetUrl(m_parts.relay->targetUrl());
        connect(m_composer, &ComposerDialog::enqueueRequested, this, &EventCommands::enqueueComposed);
    }
    return m_composer;
}

void EventCommands::setReadOnly(bool readOnly)
{
    m_readOnly = readOnly;
    for (const char *name :
        {"retry", "retryTo", "replay", "delete", "retryAll", "replayAll", "deleteAll", "cleanup", "editRetry"}) {
        if (QAction *a = m_window->findChild<QAction *>(QLatin1String(name)))
            a->setEnabled(!readOnly);
    }
    outboxChanged();
}

void EventCommands::outboxChanged()
{
    m_releaseStuck->setEnabled(
        !m_readOnly && m_parts.connections->isOpen() && m_parts.session->has(Storage::Capability::ReleaseStuck));
    if (m_composer)
        m_composer->setCanEnqueue(canEnqueue(), enqueueRefusal());
}

bool EventCommands::canEnqueue() const
{
    return m_parts.connections->isOpen() && !m_readOnly && m_parts.session->has(Storage::Capability::Enqueue);
}

QString EventCommands::relayRefusal() const
{
    if (m_readOnly)
        return tr("the console is read-only (View ▸ Read-only): relaying would change the outbox");
    return m_parts.session->relayRefusal();
}

QString EventCommands::enqueueRefusal() const
{
    if (!m_parts.connections->isOpen())
        return tr("no outbox is open");
    if (m_readOnly)
        return tr("the console is read-only (View ▸ Read-only)");
    if (!m_parts.session->has(Storage::Capability::Enqueue))
        return tr("events are enqueued into a %1 table by its framework, not from here")
            .arg(m_parts.session->formatName());
    return {};
}

void EventCommands::enqueueComposed(const OutboxEvent &e)
{
    if (!canEnqueue()) {
        composer()->showEnqueueResult(QString(), enqueueRefusal());
        return;
    }
    const FixedOriginal original = composer()->deleteOriginal() ? FixedOriginal::Delete : FixedOriginal::Resolve;
    m_parts.session->call<Result<FixOutcome>>(
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
                m_parts.actions->recordOperation(op);
            }
            Q_EMIT enqueued();
        });
}

} // namespace outbox::ui
