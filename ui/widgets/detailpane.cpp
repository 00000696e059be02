// SPDX-License-Identifier: MIT
#include "detailpane.h"

#include "fix.h"

#include "cloudevents.h"
#include "eventmodel.h"
#include "jsonhighlighter.h"
#include "textutil.h"
#include "tones.h"

#include <QApplication>
#include <QClipboard>
#include <QFontDatabase>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QSplitter>
#include <QTableWidget>
#include <QTimer>
#include <QTreeWidget>
#include <QVBoxLayout>

namespace outbox::ui {

namespace {
constexpr int kShownBytes = 1024 * 1024; // larger payloads are cut in the view (Copy data copies all)

QString timeText(const QDateTime &t)
{
    return t.isValid() ? t.toLocalTime().toString(QStringLiteral("yyyy-MM-dd HH:mm:ss.zzz")) : QString();
}
} // namespace

// (Long: it lays the pane out top to bottom, one block per section, so it reads like the pane.)
DetailPane::DetailPane(QWidget *parent) : QWidget(parent)
{
    setObjectName(QStringLiteral("detailPane"));
    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    // The id is the title: what a log line or a ticket names, selectable.
    m_title = new QLabel(this);
    m_title->setObjectName(QStringLiteral("eventTitle"));
    m_title->setTextFormat(Qt::PlainText);
    m_title->setTextInteractionFlags(Qt::TextSelectableByMouse);
    QFont titleFont = m_title->font();
    titleFont.setBold(true);
    m_title->setFont(titleFont);
    layout->addWidget(m_title);
    auto *stateRow = new QHBoxLayout;
    m_state = new QLabel(this);
    m_state->setObjectName(QStringLiteral("eventState"));
    m_state->setTextFormat(Qt::PlainText);
    m_state->setWordWrap(true);
    m_state->setTextInteractionFlags(Qt::TextSelectableByMouse);
    stateRow->addWidget(m_state, 1);
    m_showHead = new QPushButton(tr("Show it"), this);
    m_showHead->setObjectName(QStringLiteral("showBlockingHead"));
    m_showHead->setToolTip(tr("Show the event this one waits behind"));
    stateRow->addWidget(m_showHead);
    layout->addLayout(stateRow);

    auto *buttons = new QHBoxLayout;
    m_copyId = new QPushButton(tr("Copy id"), this);
    m_copyData = new QPushButton(tr("Copy data"), this);
    m_copyEvent = new QPushButton(tr("Copy as CloudEvent"), this);
    m_copyEvent->setToolTip(tr("The event in structured mode (application/cloudevents+json)"));
    buttons->addWidget(m_copyId);
    buttons->addWidget(m_copyData);
    buttons->addWidget(m_copyEvent);
    buttons->addStretch();
    layout->addLayout(buttons);

    auto *split = new QSplitter(Qt::Vertical, this);
    m_attributes = new QTableWidget(0, 2, split);
    m_attributes->setObjectName(QStringLiteral("attributes"));
    m_attributes->setHorizontalHeaderLabels({tr("Attribute"), tr("Value")});
    m_attributes->horizontalHeader()->setStretchLastSection(true);
    m_attributes->verticalHeader()->hide();
    m_attributes->setEditTriggers(QAbstractItemView::NoEditTriggers);
    m_attributes->setWordWrap(false);

    auto *dataBox = new QWidget(split);
    auto *dataLayout = new QVBoxLayout(dataBox);
    dataLayout->setContentsMargins(0, 0, 0, 0);
    m_dataKind = new QLabel(dataBox);
    m_dataKind->setTextFormat(Qt::PlainText);
    dataLayout->addWidget(m_dataKind);
    m_data = new QPlainTextEdit(dataBox);
    m_data->setObjectName(QStringLiteral("data"));
    m_data->setReadOnly(true);
    m_data->setLineWrapMode(QPlainTextEdit::NoWrap);
    m_data->setFont(QFontDatabase::systemFont(QFontDatabase::FixedFont));
    new JsonHighlighter(m_data->document());
    dataLayout->addWidget(m_data);

    m_attempts = new QTreeWidget(split);
    m_attempts->setObjectName(QStringLiteral("attempts"));
    m_attempts->setRootIsDecorated(false);
    m_attempts->setHeaderLabels({tr("Attempted"), tr("Outcome"), tr("HTTP"), tr("Took"), tr("Error"), tr("Relayer")});
    m_attempts->setWordWrap(true); // errors are wrapped, not cut
    m_attempts->header()->setSectionResizeMode(4, QHeaderView::Stretch);
    m_attempts->header()->setStretchLastSection(false);
    // At least five attempts in view, whatever the splitter was left at.
    m_attempts->setMinimumHeight(m_attempts->fontMetrics().height() * 7 + 12);
    split->setStretchFactor(0, 2);
    split->setStretchFactor(1, 3);
    split->setStretchFactor(2, 1);
    layout->addWidget(split, 1);

    // Each copy says it copied, on its button, for a moment.
    auto copier = [this](QPushButton *button, std::function<QString()> text) {
        connect(button, &QPushButton::clicked, this, [button, text] {
            QApplication::clipboard()->setText(text());
            const QString label = button->property("label").toString();
            button->setText(tr("Copied ✓"));
            QTimer::singleShot(1500, button, [button, label] { button->setText(label); });
        });
        button->setProperty("label", button->text());
    };
    m_copyId->setObjectName(QStringLiteral("copyEventId"));
    m_copyData->setObjectName(QStringLiteral("copyEventData"));
    m_copyEvent->setObjectName(QStringLiteral("copyCloudEvent"));
    copier(m_copyId, [this] { return m_event.id; });
    copier(m_copyData, [this] { return QString::fromUtf8(m_event.data); });
    copier(m_copyEvent, [this] { return QString::fromUtf8(cloudevents::structuredJson(m_event)); });
    connect(m_showHead, &QPushButton::clicked, this, [this] {
        if (!m_headId.isEmpty())
            Q_EMIT showEventRequested(m_headId);
    });
    clear(tr("Select an event to see it in full."));
}

void DetailPane::clear(const QString &message)
{
    m_event = OutboxEvent();
    m_title->setText(message);
    m_state->clear();
    m_headId.clear();
    m_showHead->hide();
    m_attributes->setRowCount(0);
    m_data->clear();
    m_dataKind->clear();
    m_attempts->clear();
    m_copyId->setEnabled(false);
    m_copyData->setEnabled(false);
    m_copyEvent->setEnabled(false);
}

QString DetailPane::stateText(const OutboxEvent &e, const OutboxEvent &head, const QDateTime &now)
{
    const QString status = EventTableModel::statusLabel(e);
    switch (e.status) {
    case EventStatus::Sent:
        return e.sentAt.isValid() ? tr("Sent at %1").arg(timeText(e.sentAt)) : tr("Sent");
    case EventStatus::Failed:
        return tr("%1 after %Ln attempt(s): not tried again unless retried (R), replayed or fixed in the composer",
            nullptr, e.attempts)
            .arg(status.left(1).toUpper() + status.mid(1));
    case EventStatus::Pending:
        break;
    }
    if (!e.formatStatus.isEmpty() && e.formatStatus != QLatin1String("pending"))
        return tr("Marked '%1' by the framework's relayer").arg(e.formatStatus);
    if (e.isInFlight(now))
        return tr("Being sent: leased by %1 until %2").arg(e.leaseOwner, timeText(e.leaseExpiresAt));
    if (!head.id.isEmpty())
        return tr("Parked behind event %1 (%2) of ordering key %3: it leaves when that one is sent or deleted")
            .arg(elideMiddle(head.id, 40), EventTableModel::statusLabel(head), e.orderingKey);
    if (e.nextAttemptAt.isValid() && e.nextAttemptAt.date().year() >= 9999)
        return tr("Parked behind an earlier event of ordering key %1").arg(e.orderingKey);
    if (e.nextAttemptAt.isValid() && e.nextAttemptAt > now)
        return e.attempts > 0 ? tr("Backing off until %1 after attempt %2 failed: %3")
                                    .arg(timeText(e.nextAttemptAt))
                                    .arg(e.attempts)
                                    .arg(oneLine(e.lastError, 200))
                              : tr("Due at %1").arg(timeText(e.nextAttemptAt));
    return e.attempts > 0 ? tr("Ready: tried again at the next relay round (after %Ln attempt(s))", nullptr, e.attempts)
                          : tr("Ready: sent at the next relay round");
}

// (Long: one section of the pane after another, in the order they are shown.)
void DetailPane::showEvent(const OutboxEvent &e, const QList<Attempt> &attempts, const OutboxEvent &blockingHead)
{
    m_event = e;
    m_title->setText(e.id);
    m_title->setToolTip(tr("Event %1 (sequence)").arg(e.sequence));
    m_state->setText(stateText(e, blockingHead, QDateTime::currentDateTimeUtc()));
    m_headId = blockingHead.id;
    m_showHead->setToolTip(tr("Show the event this one waits behind"));
    // A failed original kept after an edit & retry is resolved by its fix, unless an operator acted on it since.
    if (e.status == EventStatus::Failed) {
        for (auto it = attempts.crbegin(); it != attempts.crend(); ++it) {
            if (it->outcome != Attempt::Outcome::Operator)
                continue;
            const QString fix = fixOf(it->error);
            if (!fix.isEmpty()) {
                m_state->setText(tr("Resolved: replaced by the fix %1 (by %2, %3); kept failed for the record")
                                     .arg(elideMiddle(fix, 40), oneLine(it->relayer, 80), timeText(it->attemptedAt)));
                m_headId = fix;
                m_showHead->setToolTip(tr("Show the fix that replaced this event"));
            }
            break;
        }
    }
    m_showHead->setVisible(!m_headId.isEmpty());
    QList<std::pair<QString, QString>> rows = {
        {QStringLiteral("id"), e.id},
        {QStringLiteral("type"), e.type},
        {QStringLiteral("source"), e.source},
        {QStringLiteral("subject"), e.subject},
        {QStringLiteral("datacontenttype"), e.contentType},
        {QStringLiteral("time"), e.createdAt.isValid() ? cloudevents::formatTime(e.createdAt) : QString()},
    };
    for (auto it = e.extensions.constBegin(); it != e.extensions.constEnd(); ++it) {
        const QJsonValue v = it.value();
        QString text = v.isString() ? v.toString()
            : v.isBool()            ? (v.toBool() ? QStringLiteral("true") : QStringLiteral("false"))
            : v.isDouble()          ? QString::number(v.toDouble(), 'g', 17)
                                    : QString();
        rows.append({tr("ext: %1").arg(it.key()), text});
    }
    rows.append({tr("ordering key"), e.orderingKey});
    rows.append({tr("status"), EventTableModel::statusLabel(e)});
    rows.append({tr("attempts"), QString::number(e.attempts)});
    QString next;
    if (e.status == EventStatus::Pending)
        next = e.nextAttemptAt.date().year() >= 9999 ? tr("after the earlier events of its ordering key")
                                                     : timeText(e.nextAttemptAt);
    rows.append({tr("next attempt"), next});
    rows.append({tr("lease owner"), e.leaseOwner});
    rows.append({tr("last HTTP status"), e.lastHttpStatus > 0 ? QString::number(e.lastHttpStatus) : QString()});
    rows.append({tr("last error"), e.lastError});
    rows.append({tr("sent at"), timeText(e.sentAt)});
    rows.append({tr("replay of"), e.replayOf});
    m_attributes->setRowCount(int(rows.size()));
    for (int i = 0; i < rows.size(); ++i) {
        m_attributes->setItem(i, 0, new QTableWidgetItem(rows.at(i).first));
        auto *value = new QTableWidgetItem(oneLine(rows.at(i).second, 4000));
        value->setToolTip(plainTooltip(rows.at(i).second));
        m_attributes->setItem(i, 1, value);
    }
    m_attributes->resizeColumnToContents(0);

    QString kind;
    const QByteArray shown = e.data.left(kShownBytes);
    QString text = payloadText(shown, &kind);
    if (e.data.size() > kShownBytes) {
        kind = tr("first %1 of %2 bytes (Copy data copies all)").arg(kShownBytes).arg(e.data.size());
        text = QString::fromUtf8(shown);
    }
    m_dataKind->setText(tr("Data: %1, %2 bytes").arg(kind).arg(e.data.size()));
    m_data->setPlainText(text);

    m_attempts->clear();
    for (const Attempt &a : attempts) {
        auto *item = new QTreeWidgetItem(m_attempts,
            {timeText(a.attemptedAt), outcomeName(a.outcome),
                a.httpStatus > 0 ? QString::number(a.httpStatus) : QString(),
                a.outcome == Attempt::Outcome::Operator ? QString() : QStringLiteral("%1 ms").arg(a.durationMs),
                oneLine(a.error, 2000), a.relayer});
        item->setToolTip(4, plainTooltip(a.error));
        const QColor colour = toneColour(a.outcome == Attempt::Outcome::Sent ? Tone::Good
                : a.outcome == Attempt::Outcome::Retry                       ? Tone::Warning
                : a.outcome == Attempt::Outcome::Operator                    ? Tone::Info
                                                                             : Tone::Bad);
        item->setForeground(1, colour);
    }
    for (int c : {0, 1, 2, 3, 5})
        m_attempts->resizeColumnToContents(c);
    if (attempts.isEmpty() && !m_historyNote.isEmpty()) { // after the sizing: it spans every column
        auto *item = new QTreeWidgetItem(m_attempts);
        item->setText(0, m_historyNote);
        item->setFirstColumnSpanned(true);
    }
    m_copyId->setEnabled(true);
    m_copyData->setEnabled(true);
    m_copyEvent->setEnabled(true);
}

} // namespace outbox::ui
