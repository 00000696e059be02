// SPDX-License-Identifier: MIT
#pragma once

#include "outboxevent.h"

#include <QWidget>

class QLabel;
class QPlainTextEdit;
class QPushButton;
class QTableWidget;
class QTreeWidget;

namespace outbox::ui {

// One event in full: its CloudEvents attributes and extensions, its data (indented JSON with colours,
// text, or a hex dump), and the history of its delivery attempts. Everything is shown as plain text.
class DetailPane : public QWidget
{
    Q_OBJECT
public:
    explicit DetailPane(QWidget *parent = nullptr);

    // blockingHead: for an event parked behind an earlier one of its ordering key, that event (else empty).
    void showEvent(const OutboxEvent &event, const QList<Attempt> &attempts, const OutboxEvent &blockingHead = {});
    // Why the event is where it is: ready, backing off until when, parked behind which event, being sent…
    static QString stateText(const OutboxEvent &event, const OutboxEvent &blockingHead, const QDateTime &now);
    void clear(const QString &message = QString());
    const OutboxEvent &event() const { return m_event; }
    bool hasEvent() const { return !m_event.id.isEmpty(); }

    QTableWidget *attributeTable() const { return m_attributes; }
    QPlainTextEdit *dataView() const { return m_data; }
    // Shown in the attempt list when the outbox keeps no history (Capability::AttemptHistory).
    void setHistoryNote(const QString &note) { m_historyNote = note; }
    QTreeWidget *attemptView() const { return m_attempts; }
    QLabel *dataKindLabel() const { return m_dataKind; }

Q_SIGNALS:
    void showEventRequested(const QString &id); // "Show it": the event this one waits behind

private:
    OutboxEvent m_event;
    QLabel *m_title;
    QLabel *m_state;
    QPushButton *m_showHead;
    QString m_headId;
    QTableWidget *m_attributes;
    QLabel *m_dataKind;
    QPlainTextEdit *m_data;
    QString m_historyNote;
    QTreeWidget *m_attempts;
    QPushButton *m_copyId;
    QPushButton *m_copyData;
    QPushButton *m_copyEvent;
};

} // namespace outbox::ui
