// SPDX-License-Identifier: MIT
#pragma once

#include "connectionspec.h"
#include "relayerconfig.h"

#include <QDateTime>
#include <QStringList>
#include <QTimer>
#include <QHash>
#include <QMap>
#include <QWidget>

#include <array>

#include <memory>

class QComboBox;
class QLabel;
class QLineEdit;
class QPlainTextEdit;
class QPushButton;
class QSpinBox;

namespace outbox {
class Relayer;
}

namespace outbox::ui {

class Foldable;
class RelaySettingsForm;

// Runs a relayer in the console's process (on its own thread) on the open outbox: start, pause, stop,
// relay once; its settings; and a live log of deliveries.
class RelayPanel : public QWidget
{
    Q_OBJECT
public:
    enum class State { Stopped, Running, Stopping, Paused };

    explicit RelayPanel(QWidget *parent = nullptr);
    ~RelayPanel() override;

    // The outbox to relay from; stops a running relayer first.
    // `refusal`: why this outbox cannot be relayed from here (a foreign outbox); shown, with the controls off.
    // The relay target belongs to the outbox: another outbox brings its own remembered target (empty until the
    // operator sets one), never the one of the outbox before.
    void setConnection(const ConnectionSpec &spec, bool open, const QString &refusal = {});
    // What Start weighs before it relays: the events due (they are about to be sent), where the outbox's other
    // live relayers send, and whether this is the console's own demo outbox (whose target is the local
    // receiver by design).
    void setOutboxFacts(qint64 pending, const QStringList &otherTargets, bool demo);
    // `localReceiver`: the console's own receiver, on a port of this run only: never saved as the target.
    void setTargetUrl(const QString &url, bool localReceiver = false);
    QString targetUrl() const;
    // The relayer's settings sent to another target (retry to another URL): the mode, timeout and certificate
    // files, not the headers, signing secret or routes, which belong to this panel's target. Built and checked
    // the one way a relayer is (relayersettings.h); false, and why in one line, when they cannot be used.
    bool configFor(const QString &target, RelayerConfig *c, QString *problem) const;
    State state() const { return m_state; }

    void start();
    // Pause and stop let requests in flight finish (up to the request timeout) without holding up the window.
    void pause();
    void stop();
    // Stops at once, waiting for requests in flight (closing the window, switching outboxes).
    void stopNow();
    void relayOnce();

    void loadSettings();
    void saveSettings() const;

    QPushButton *startButton() const { return m_start; }
    QPushButton *pauseButton() const { return m_pause; }
    QPushButton *stopButton() const { return m_stop; }
    QPushButton *onceButton() const { return m_once; }
    QPlainTextEdit *log() const { return m_log; }
    // Another outbox: its log starts empty.
    void clearLog();
    // A line of the console's own in the log (a relayer taken over), with its time.
    void note(const QString &line);
    QLabel *stateLabel() const { return m_stateLabel; }

Q_SIGNALS:
    void stateChanged(State state);
    void relayError(const QString &message, const QDateTime &at);
    void deliveriesHappened(); // something was sent, retried or failed: worth refreshing the views
    void controlsChanged(); // which of start, pause, stop and relay once can be used now

private:
    void showTransport();
    // The panel's settings by the names outboxctl relay gives them (relayersettings.h); withSecrets adds the
    // typed header and the header, signing-secret and routes files.
    QHash<QString, QStringList> settings(bool withSecrets) const;
    void setState(State state);
    // Connects to the target's host and port; then go(), or (nothing answers) go() if the operator says so.
    void checkTargetThen(const std::function<void()> &go);
    void startChecked();
    void relayOnceChecked();
    void appendLog(const QString &line);
    void flushLog();
    bool ensureRelayer();
    void updateButtons();

    ConnectionSpec m_spec;
    bool m_open = false;
    State m_state = State::Stopped;
    std::unique_ptr<Relayer> m_relayer;
    bool m_onceRunning = false;
    bool m_checking = false; // the target check before a start or a relay once

    QLineEdit *m_url;
    RelaySettingsForm *m_form; // every setting besides the target
    Foldable *m_settings; // the form, folded away by default
    QWidget *m_applyBar; // shown while the relayer runs with settings other than the panel's
    QPushButton *m_apply;
    QHash<QString, QStringList> m_relayerSettings; // what the running relayer was built from
    void settingsEdited();
    void applySettings();
    QLabel *m_routeFigures; // per-route outcome counts while routes are in use
    QLabel *m_transport; // what the target goes through (showTransport)
    QMap<QString, std::array<qint64, 3>> m_routeCounts; // route -> sent, retry, failed
    QHash<QString, QString> m_routeVia; // route -> the short name of its transport ("MQTT", "HTTP")
    void showRouteFigures();
    QPushButton *m_start;
    QPushButton *m_pause;
    QPushButton *m_stop;
    QPushButton *m_once;
    QLabel *m_stateLabel;
    QLabel *m_refusalLabel;
    QWidget *m_controls; // the settings and the buttons
    QString m_receiverUrl; // the local receiver's URL when it was made the target
    qint64 m_pending = 0;
    QStringList m_otherTargets; // of the outbox's other live relayers
    bool m_demoOutbox = false;
    QString m_confirmedTarget; // outbox and target the operator said Yes to (asked once for each pair)
    // Start's question when the target is this console's own receiver, or not where the other relayers send;
    // true to go on.
    bool confirmTarget();
    static QString targetKey(const ConnectionSpec &spec);
    void rememberTarget() const;
    QString m_refusal;
    QPlainTextEdit *m_log;
    QStringList m_pendingLog;
    int m_droppedLog = 0;
    QTimer m_logTimer;
};

} // namespace outbox::ui
