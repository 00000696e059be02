// SPDX-License-Identifier: MIT
#include "eventactions.h"

#include "cloudevents.h"
#include "deliveronce.h"
#include "httpsender.h"
#include "relaystore.h"
#include "session.h"
#include "textutil.h"

#include <QCheckBox>
#include <QDialog>
#include <QDialogButtonBox>
#include <QFormLayout>
#include <QLabel>
#include <QHash>
#include <QLocale>
#include <QMessageBox>
#include <QPushButton>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QSaveFile>
#include <QSpinBox>

#include <memory>

namespace outbox::ui {

namespace {
constexpr int kActionChunk = 2000; // events per statement of a bulk action

QString localTime(const QDateTime &t)
{
    return QLocale().toString(t.toLocalTime(), QLocale::ShortFormat);
}
} // namespace

BulkResult runBulkAction(Storage &storage, EventAction action, const QList<qint64> &sequences, int chunk,
    const std::function<void(qsizetype done)> &progress)
{
    BulkResult result;
    for (qsizetype i = 0; i < sequences.size(); i += chunk) {
        const QList<qint64> part = sequences.mid(i, chunk);
        auto ids = storage.idsBySequence(part);
        if (!ids.isOk()) {
            result.error = ids.error().message();
            break;
        }
        result.summary.skipped += int(part.size() - ids->size()); // gone meanwhile
        Result<ActionSummary> r = action == EventAction::Retry ? storage.retry(*ids)
            : action == EventAction::Replay                    ? storage.replay(*ids)
                                                               : storage.remove(*ids);
        if (!r.isOk()) {
            result.error = r.error().message();
            break;
        }
        result.summary.changed += r->changed;
        result.summary.skipped += r->skipped;
        result.summary.newIds += r->newIds;
        if (progress)
            progress(qMin(sequences.size(), i + chunk));
    }
    return result;
}

EventActions::EventActions(Session *session, QWidget *dialogParent)
    : QObject(dialogParent), m_session(session), m_parent(dialogParent)
{ }

QString EventActions::verb(EventAction action)
{
    switch (action) {
    case EventAction::Retry:
        return tr("Retry");
    case EventAction::Replay:
        return tr("Replay");
    case EventAction::Delete:
        return tr("Delete");
    }
    return {};
}

void EventActions::record(Operation op)
{
    op.at = QDateTime::currentDateTime();
    Q_EMIT operationRecorded(op);
}

bool EventActions::refuseWhenReadOnly()
{
    if (!m_readOnly)
        return false;
    Q_EMIT finished(tr("Read-only: nothing was changed (View ▸ Read-only)"), QString(), false);
    return true;
}

void EventActions::confirmCount(const QString &title, const Result<qint64> &count, const QString &none,
    const QString &question, const std::function<void()> &execute)
{
    if (!count.isOk()) {
        QMessageBox::warning(m_parent, title, count.error().message());
        return;
    }
    if (count.value() == 0) {
        Q_EMIT finished(none, QString(), false);
        return;
    }
    if (QMessageBox::question(m_parent, title, question, QMessageBox::Yes | QMessageBox::Cancel, QMessageBox::Cancel)
        == QMessageBox::Yes)
        execute();
}

void EventActions::confirmAndRun(EventAction action, const QList<qint64> &sequences, const QString &scopeText)
{
    if (m_running || sequences.isEmpty() || refuseWhenReadOnly())
        return;
    QString note;
    switch (action) {
    case EventAction::Retry:
        note = tr("Only failed events are retried; others are skipped.");
        break;
    case EventAction::Replay:
        note = tr("Each sent or failed event is enqueued again as a new event; pending ones are skipped.");
        break;
    case EventAction::Delete:
        note = tr("Deleted events and their delivery history cannot be brought back.");
        break;
    }
    const QString question = tr("%1 %2?\n\n%3").arg(verb(action), scopeText, note);
    // A retry is undone by the next failure: Yes is its default. Replay and delete are not: Cancel is theirs.
    if (QMessageBox::question(m_parent, tr("%1 events").arg(verb(action)), question,
            QMessageBox::Yes | QMessageBox::Cancel,
            action == EventAction::Retry ? QMessageBox::Yes : QMessageBox::Cancel)
        != QMessageBox::Yes)
        return;
    run(action, sequences, scopeText);
}

void EventActions::run(EventAction action, const QList<qint64> &sequences, const QString &scopeText)
{
    if (refuseWhenReadOnly())
        return;
    m_running = true;
    Q_EMIT progress(tr("Working on %1…").arg(scopeText));
    QPointer<EventActions> self(this);
    Session *session = m_session;
    m_session->post([=](Storage &storage) {
        const BulkResult r = runBulkAction(storage, action, sequences, kActionChunk, [&](qsizetype done) {
            session->deliver([self, done, n = sequences.size()] {
                if (self && n > kActionChunk)
                    Q_EMIT self->progress(tr("Working… %L1 of %L2").arg(done).arg(n));
            });
        });
        session->deliver([self, action, r, sequences, scopeText] {
            if (!self)
                return;
            self->m_running = false;
            const ActionSummary &total = r.summary;
            static const char *const done[] = {"Retried", "Replayed", "Deleted"};
            QString summary =
                tr("%1 %L2 event(s); %L3 skipped").arg(tr(done[int(action)])).arg(total.changed).arg(total.skipped);
            if (total.skipped > 0) {
                summary += action == EventAction::Retry ? tr(" (not failed: already retried, pending or sent, or gone)")
                    : action == EventAction::Replay     ? tr(" (still pending, or gone)")
                                                        : tr(" (already gone)");
            }
            if (!r.error.isEmpty())
                summary = tr("Stopped after %L1 change(s): %2").arg(total.changed).arg(r.error);
            else if (action != EventAction::Delete && total.changed > 0 && self->m_relayerStopped
                && self->m_relayerStopped())
                summary +=
                    tr(" — this console's relayer is stopped: Relay ▸ Start sends them (or a relayer elsewhere)");
            Operation op;
            op.what = verb(action);
            op.scope = scopeText;
            op.changed = total.changed;
            op.skipped = total.skipped;
            op.error = r.error;
            op.affected = sequences;
            self->record(op);
            if (!r.error.isEmpty())
                QMessageBox::warning(self->m_parent, tr("Action failed"), summary);
            Q_EMIT self->finished(summary, r.error, total.changed > 0);
        });
    });
}

// An exported event with where it stands and its history, the CloudEvent spliced in as written (never
// parsed into a QJsonValue, which would round big numbers).
static Result<QByteArray> withDeliveryState(Storage &s, const OutboxEvent &e)
{
    QJsonArray history;
    if (s.has(Storage::Capability::AttemptHistory)) {
        auto attempts = s.attempts(e.id);
        if (!attempts.isOk())
            return attempts.error();
        for (const Attempt &a : *attempts)
            history.append(QJsonObject{{QStringLiteral("at"), cloudevents::formatTime(a.attemptedAt)},
                {QStringLiteral("outcome"), outcomeName(a.outcome)}, {QStringLiteral("http_status"), a.httpStatus},
                {QStringLiteral("error"), a.error}, {QStringLiteral("duration_ms"), a.durationMs},
                {QStringLiteral("relayer"), a.relayer}});
    }
    const QJsonObject state{{QStringLiteral("status"), statusName(e.status)}, {QStringLiteral("attempts"), e.attempts},
        {QStringLiteral("last_http_status"), e.lastHttpStatus},
        {QStringLiteral("last_error"), e.lastError.isEmpty() ? QJsonValue() : QJsonValue(e.lastError)},
        {QStringLiteral("created_at"), cloudevents::formatTime(e.createdAt)},
        {QStringLiteral("sent_at"), e.sentAt.isValid() ? QJsonValue(cloudevents::formatTime(e.sentAt)) : QJsonValue()},
        {QStringLiteral("history"), history}};
    return QByteArray("{\"event\":") + cloudevents::structuredJson(e) + ','
        + QJsonDocument(state).toJson(QJsonDocument::Compact).mid(1);
}

void EventActions::exportEvents(
    const QList<qint64> &sequences, const QString &path, const QString &scopeText, bool withState)
{
    Q_EMIT progress(tr("Exporting %1…").arg(scopeText));
    m_session->call<Result<qint64>>(
        this,
        [sequences, path, withState](Storage &s) -> Result<qint64> {
            QSaveFile file(path);
            if (!file.open(QIODevice::WriteOnly))
                return Error(
                    Error::InvalidArgument, QStringLiteral("cannot write %1: %2").arg(path, file.errorString()));
            qint64 written = 0;
            for (qsizetype i = 0; i < sequences.size(); i += 500) {
                const QList<qint64> part = sequences.mid(i, 500);
                auto rows = s.eventsBySequence(part, true);
                if (!rows.isOk())
                    return rows.error();
                QHash<qint64, qsizetype> at; // the rows come in no order: write them in the table's
                for (qsizetype r = 0; r < rows->size(); ++r)
                    at.insert(rows->at(r).sequence, r);
                for (qint64 seq : part) {
                    const auto it = at.constFind(seq);
                    if (it == at.constEnd())
                        continue; // gone meanwhile
                    if (withState) {
                        auto line = withDeliveryState(s, rows->at(*it));
                        if (!line.isOk())
                            return line.error();
                        file.write(*line);
                    } else {
                        file.write(cloudevents::structuredJson(rows->at(*it)));
                    }
                    file.write("\n");
                    ++written;
                }
            }
            if (!file.commit())
                return Error(
                    Error::InvalidArgument, QStringLiteral("cannot write %1: %2").arg(path, file.errorString()));
            return written;
        },
        [this, path](const Result<qint64> &r) {
            const QString summary = r.isOk() ? tr("Exported %L1 event(s) to %2").arg(r.value()).arg(path)
                                             : tr("Export failed: %1").arg(r.error().message());
            if (!r.isOk())
                QMessageBox::warning(m_parent, tr("Export"), summary);
            Q_EMIT finished(summary, r.isOk() ? QString() : r.error().message(), false);
        });
}

void EventActions::cleanupOld()
{
    if (refuseWhenReadOnly())
        return;
    QDialog dialog(m_parent);
    dialog.setObjectName(QStringLiteral("cleanupDialog"));
    dialog.setWindowTitle(tr("Clean up old events"));
    auto *form = new QFormLayout(&dialog);
    auto *days = new QSpinBox(&dialog);
    days->setObjectName(QStringLiteral("days"));
    days->setRange(0, 3650);
    days->setValue(7);
    days->setSuffix(tr(" days"));
    auto *sent = new QCheckBox(tr("sent"), &dialog);
    sent->setChecked(true);
    auto *failed = new QCheckBox(tr("failed"), &dialog);
    form->addRow(tr("Older than"), days);
    form->addRow(tr("In state"), sent);
    form->addRow(QString(), failed);
    auto *buttons = new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel, &dialog);
    buttons->button(QDialogButtonBox::Ok)->setText(tr("Delete"));
    form->addRow(buttons);
    connect(buttons, &QDialogButtonBox::accepted, &dialog, &QDialog::accept);
    connect(buttons, &QDialogButtonBox::rejected, &dialog, &QDialog::reject);
    if (dialog.exec() != QDialog::Accepted)
        return;
    QList<EventStatus> statuses;
    if (sent->isChecked())
        statuses.append(EventStatus::Sent);
    if (failed->isChecked())
        statuses.append(EventStatus::Failed);
    const QDateTime cutoff = QDateTime::currentDateTimeUtc().addDays(-days->value());
    if (statuses.isEmpty())
        return;
    // The exact count first, for a confirmation that names it (Cancel by default: deleted events are gone).
    m_session->call<Result<qint64>>(
        this,
        [cutoff, statuses](Storage &s) -> Result<qint64> {
            qint64 n = 0;
            for (EventStatus status : statuses) {
                EventFilter f;
                f.status = status;
                f.createdTo = cutoff;
                auto c = s.countEvents(f);
                if (!c.isOk())
                    return c.error();
                n += c.value();
            }
            return n;
        },
        [this, cutoff, statuses](const Result<qint64> &n) {
            confirmCount(tr("Clean up old events"), n, tr("No event to clean up"),
                tr("Delete %L1 event(s) created before %2, with their delivery history?\n\nThey cannot be "
                   "brought back.")
                    .arg(n.isOk() ? n.value() : 0)
                    .arg(localTime(cutoff)),
                [this, cutoff, statuses] { executeCleanup(cutoff, statuses); });
        });
}

void EventActions::executeCleanup(const QDateTime &cutoff, const QList<EventStatus> &statuses)
{
    if (refuseWhenReadOnly())
        return;
    Q_EMIT progress(tr("Cleaning up…"));
    m_session->call<Result<int>>(
        this, [cutoff, statuses](Storage &s) { return s.cleanup(cutoff, statuses); },
        [this, cutoff, statuses](const Result<int> &r) {
            const QString summary = r.isOk() ? tr("Cleaned up %L1 old event(s)").arg(r.value())
                                             : tr("Cleanup failed: %1").arg(r.error().message());
            QStringList names;
            for (EventStatus s : statuses)
                names << statusName(s);
            Operation op;
            op.what = tr("Clean up");
            op.scope = tr("%1 events created before %2").arg(names.join(tr(" and ")), localTime(cutoff));
            op.changed = r.isOk() ? r.value() : 0;
            op.error = r.isOk() ? QString() : r.error().message();
            record(op);
            Q_EMIT finished(summary, op.error, op.changed > 0);
        });
}

void EventActions::releaseStuck(qint64 processing)
{
    if (refuseWhenReadOnly())
        return;
    QDialog dialog(m_parent);
    dialog.setObjectName(QStringLiteral("releaseStuckDialog"));
    dialog.setWindowTitle(tr("Release stuck events"));
    auto *form = new QFormLayout(&dialog);
    auto *explain = new QLabel(tr("%L1 event(s) are marked 'processing' now. Those created longer ago than this go "
                                  "back to pending, and the framework's relayer sends them again. Do this only when "
                                  "that relayer crashed: one still running may be sending them.")
                                   .arg(processing),
        &dialog);
    explain->setWordWrap(true);
    form->addRow(explain);
    auto *minutes = new QSpinBox(&dialog);
    minutes->setObjectName(QStringLiteral("minutes"));
    minutes->setRange(0, 100000);
    minutes->setValue(10);
    minutes->setSuffix(tr(" min"));
    form->addRow(tr("Created more than"), minutes);
    auto *buttons = new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel, &dialog);
    buttons->button(QDialogButtonBox::Ok)->setText(tr("Release"));
    buttons->button(QDialogButtonBox::Cancel)->setDefault(true);
    form->addRow(buttons);
    connect(buttons, &QDialogButtonBox::accepted, &dialog, &QDialog::accept);
    connect(buttons, &QDialogButtonBox::rejected, &dialog, &QDialog::reject);
    if (dialog.exec() != QDialog::Accepted)
        return;
    // Then the exact count, for a confirmation that names it (Cancel by default, as for a delete).
    const QDateTime cutoff = QDateTime::currentDateTimeUtc().addSecs(-60 * qint64(minutes->value()));
    EventFilter stuck;
    stuck.formatStatus = QStringLiteral("processing");
    stuck.createdTo = cutoff;
    m_session->call<Result<qint64>>(
        this, [stuck](Storage &s) { return s.countEvents(stuck); },
        [this, cutoff](const Result<qint64> &n) {
            confirmCount(tr("Release stuck events"), n,
                tr("No event marked 'processing' was created before %1").arg(localTime(cutoff)),
                tr("Put the %L1 event(s) marked 'processing' and created before %2 back to pending?\n\nThe "
                   "framework's relayer then sends them again.")
                    .arg(n.isOk() ? n.value() : 0)
                    .arg(localTime(cutoff)),
                [this, cutoff] { executeRelease(cutoff); });
        });
}

void EventActions::executeRelease(const QDateTime &cutoff)
{
    if (refuseWhenReadOnly())
        return;
    Q_EMIT progress(tr("Releasing…"));
    m_session->call<Result<int>>(
        this, [cutoff](Storage &s) { return s.releaseStuck(cutoff); },
        [this, cutoff](const Result<int> &r) {
            const QString summary = r.isOk() ? tr("Released %L1 stuck event(s) back to pending").arg(r.value())
                                             : tr("Release failed: %1").arg(r.error().message());
            Operation op;
            op.what = tr("Release stuck");
            op.scope = tr("events marked 'processing' created before %1").arg(localTime(cutoff));
            op.changed = r.isOk() ? r.value() : 0;
            op.error = r.isOk() ? QString() : r.error().message();
            record(op);
            Q_EMIT finished(summary, op.error, op.changed > 0);
        });
}

void EventActions::takeOver(const RelayerInfo &gone)
{
    if (refuseWhenReadOnly())
        return;
    const QString name = oneLine(gone.owner, 120);
    if (QMessageBox::question(m_parent, tr("Take over a relayer's events"),
            tr("Relayer %1 on %2 (pid %3) is gone and holds %L4 event(s). Release them, so that a running relayer "
               "sends them now rather than when their leases end?")
                .arg(name, oneLine(gone.host, 80))
                .arg(gone.pid)
                .arg(gone.held),
            QMessageBox::Yes | QMessageBox::Cancel, QMessageBox::Yes)
        != QMessageBox::Yes)
        return;
    Q_EMIT progress(tr("Taking over…"));
    m_session->call<Result<int>>(
        this,
        [gone](Storage &s) -> Result<int> {
            auto relay = detail::requireRelayStore(s);
            return relay.isOk() ? relay.value()->takeOver(gone) : Result<int>(relay.error());
        },
        [this, name](const Result<int> &r) {
            Operation op;
            op.what = tr("Take over");
            op.scope = tr("the events of relayer %1").arg(name);
            if (!r.isOk())
                op.error = r.error().message();
            else if (r.value() < 0)
                op.error = tr("it is running again (its lock is held); nothing was released");
            op.changed = r.isOk() ? qMax(0, r.value()) : 0;
            record(op);
            Q_EMIT finished(op.error.isEmpty() ? tr("Released %L1 event(s) of relayer %2").arg(op.changed).arg(name)
                                               : tr("Take over failed: %1").arg(op.error),
                op.error, op.changed > 0);
        });
}

void EventActions::retryTo(const QList<qint64> &sequences, const RelayerConfig &config, const QString &scopeText)
{
    if (m_running || sequences.isEmpty() || refuseWhenReadOnly())
        return;
    const QString url = config.targetUrl.toDisplayString();
    if (QMessageBox::question(m_parent, tr("Retry to another URL"),
            tr("Send %1 once to %2?\n\nThose still failed are sent now; each that arrives becomes sent, each other "
               "stays failed with the new error. The relay target is unchanged.")
                .arg(scopeText, url),
            QMessageBox::Yes | QMessageBox::Cancel, QMessageBox::Yes)
        != QMessageBox::Yes)
        return;
    m_running = true;
    Q_EMIT progress(tr("Sending to %1…").arg(url));
    // An owner of this console alone: the lease keeps a second console from sending them at the same time.
    const QString owner = deliverOnceOwner(QStringLiteral("console-retry-to"));
    const qint64 leaseMs = deliverOnceLeaseMs(config);
    const QString note = tr("manual retry to %1").arg(url);
    Operation op;
    op.what = tr("Retry to URL");
    op.scope = tr("%1, sent to %2").arg(scopeText, url);
    op.affected = sequences;
    auto finish = [this](Operation op, const QString &summary) {
        m_running = false;
        record(op);
        Q_EMIT finished(summary, op.error, op.changed > 0);
    };
    m_session->call<Result<QList<OutboxEvent>>>(
        this, [=](Storage &s) { return s.takeFailed(owner, sequences, leaseMs, note); },
        [=, this](const Result<QList<OutboxEvent>> &taken) mutable {
            if (!taken.isOk()) {
                op.error = taken.error().message();
                finish(op, tr("Retry to URL failed: %1").arg(op.error));
                return;
            }
            op.skipped = int(sequences.size() - taken->size());
            if (taken->isEmpty()) {
                finish(op, tr("Nothing sent: none of them is failed now, or another console holds them"));
                return;
            }
            auto *sender = new HttpSender(HttpSenderOptions::from(config), this);
            auto arrivedSoFar = std::make_shared<QList<HttpSender::Outcome>>();
            sender->send(
                taken.value(),
                [=, this](const QList<HttpSender::Outcome> &some, bool last) mutable {
                    // A handful of events: their results are written together once all are known.
                    *arrivedSoFar += some;
                    if (!last)
                        return;
                    const QList<HttpSender::Outcome> outcomes = *arrivedSoFar;
                    sender->deleteLater();
                    DeliverOnceTally tally;
                    const QList<detail::DeliveryRecord> records =
                        deliverOnceRecords(outcomes, QDateTime::currentDateTimeUtc(), tally);
                    op.skipped += tally.skipped;
                    m_session->call<Error>(
                        this,
                        [=](Storage &s) -> Error {
                            auto relay = detail::requireRelayStore(s);
                            return relay.isOk() ? relay.value()->complete(owner, records) : relay.error();
                        },
                        [=](const Error &written) mutable {
                            op.changed = written ? 0 : tally.arrived;
                            op.error = written ? written.message() : tally.firstError;
                            QString summary = written
                                ? tr("Sent to %1, but the results could not be written: %2 (they stay failed)")
                                      .arg(url, written.message())
                                : tr("Sent %L1 of %L2 to %3").arg(tally.arrived).arg(sequences.size()).arg(url);
                            if (!written && tally.failedAgain > 0)
                                summary += tr("; %L1 failed again: %2")
                                               .arg(tally.failedAgain)
                                               .arg(oneLine(tally.firstError, 200));
                            if (!written && op.skipped > 0)
                                summary += tr("; %L1 skipped (not failed, or held by another console)").arg(op.skipped);
                            finish(op, summary);
                        });
                },
                leaseMs);
        });
}

} // namespace outbox::ui
