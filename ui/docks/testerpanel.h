// SPDX-License-Identifier: MIT
#pragma once

#include "receiver.h"

#include <QTimer>
#include <QWidget>

#include <memory>

class QCheckBox;
class QLineEdit;
class QComboBox;
class QDoubleSpinBox;
class QLabel;
class QPlainTextEdit;
class QPushButton;
class QSpinBox;
class QTreeWidget;

namespace outbox {
class BrokerSubscriber;
}

namespace outbox::ui {

class Foldable;

// The local CloudEvents receiver, in the console: start it on a loopback port, make it misbehave (a status,
// a failure rate, a delay, Retry-After, a hang, a dropped connection, for all requests or by rules on an
// event's type, source and subject; all changeable while it runs), and see
// every event that arrives with its validation verdict, headers and data. Or, instead of HTTP or beside it,
// subscribed to a broker destination (mqtt://, nats://, amqp://, kafka://, through the transport plug-ins, as
// `outboxctl receive --from`): what arrives there shown the same way.
class TesterPanel : public QWidget
{
    Q_OBJECT
public:
    explicit TesterPanel(QWidget *parent = nullptr);
    ~TesterPanel() override;

    bool startReceiver(quint16 port = 0);
    void stopReceiver();
    Receiver *receiver() const { return m_receiver; }
    QString receiverUrl() const; // empty when not listening
    ReceiverFaults faultsFromControls() const;
    // The fault rules typed in the panel, one a line; the error names the line that is not one.
    Result<QList<ReceiverFaultRule>> rulesFromControls() const;
    // Subscribes to the broker URL typed in the panel; false, and why in the state line and `error`, when
    // it cannot (a URL that is not a broker's, no plug-in for its scheme, the plug-in's objection).
    bool subscribe(QString *error);
    void unsubscribe();
    bool isSubscribed() const { return m_subscription != nullptr; }
    QString stateText() const;

    QTreeWidget *receivedList() const { return m_list; }
    QPushButton *useAsTargetButton() const { return m_useAsTarget; }
    QComboBox *statusBox() const { return m_status; }
    QDoubleSpinBox *failRateBox() const { return m_failRate; }
    QSpinBox *delayBox() const { return m_delay; }
    QSpinBox *retryAfterBox() const { return m_retryAfter; }
    QCheckBox *hangBox() const { return m_hang; }
    QCheckBox *dropBox() const { return m_drop; }
    QPlainTextEdit *rulesBox() const { return m_rules; }

Q_SIGNALS:
    void useAsTargetRequested(const QString &url);

private:
    Foldable *m_faultsPart; // faults, rules and the signature check, folded behind a summary
    void applyFaults();
    void addRequest(const ReceivedRequest &request);
    void showSelected();
    void updateState();
    void toggleSubscription();

    Receiver *m_receiver;
    QSpinBox *m_port;
    QPushButton *m_startStop;
    QPushButton *m_useAsTarget;
    QPushButton *m_clear;
    QLabel *m_state;
    QLineEdit *m_brokerSource;
    QPushButton *m_subscribe;
    std::unique_ptr<BrokerSubscriber> m_subscription;
    QString m_subscribedTo; // the source as shown (no password)
    QTimer m_subscriptionState; // the subscription's state changes on its own (the broker goes away, comes back)
    QComboBox *m_status;
    QDoubleSpinBox *m_failRate;
    QSpinBox *m_delay;
    QSpinBox *m_retryAfter;
    QCheckBox *m_hang;
    QCheckBox *m_drop;
    QPlainTextEdit *m_rules; // faults for some events only (ReceiverFaultRule, one a line)
    QLineEdit *m_signingFile; // a whsec_ secret file: the receiver verifies Standard Webhooks signatures
    QTreeWidget *m_list;
    QPlainTextEdit *m_detail;
    QList<ReceivedRequest> m_requests; // the last 2,000, for the detail view
    int m_shown = 0;
};

} // namespace outbox::ui
