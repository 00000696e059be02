// SPDX-License-Identifier: MIT
#include "relaypanel.h"
#include "relaytransports.h"

#include "relayerconfig.h"

#include "relayer.h"
#include "textutil.h"
#include "relayersettings.h"
#include "relaysettingsform.h"
#include "flowlayout.h"
#include "foldable.h"

#include <memory>

#include <QComboBox>
#include <QFormLayout>
#include <QGuiApplication>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QMessageBox>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QScrollArea>
#include <QCryptographicHash>
#include <QSettings>
#include <QSpinBox>
#include <QTcpSocket>
#include <QUrl>
#include <QVBoxLayout>

namespace outbox::ui {

namespace {
constexpr int kLogLinesPerFlush = 200; // at thousands of events a second the log shows a sample and a count
}

// (Long: it lays the panel out top to bottom, one block per control, so it reads like the panel.)
RelayPanel::RelayPanel(QWidget *parent) : QWidget(parent)
{
    setObjectName(QStringLiteral("relayPanel"));
    auto *layout = new QVBoxLayout(this);
    auto *form = new QFormLayout;
    m_url = new QLineEdit(this);
    m_url->setObjectName(QStringLiteral("targetUrl"));
    m_url->setPlaceholderText(QStringLiteral("http://127.0.0.1:8080/events"));
    form->addRow(tr("Target URL"), m_url);
    // What the target's scheme relays through: HTTP, or a broker transport plug-in (or that none is installed).
    m_transport = new QLabel(this);
    m_transport->setObjectName(QStringLiteral("relayTransport"));
    m_transport->setWordWrap(true);
    form->addRow(QString(), m_transport);
    // The other settings fold away (with a summary beside their title), so the log keeps its room; they stay
    // editable while relaying, and Apply restarts the relayer with them.
    m_form = new RelaySettingsForm;
    auto *scroll = new QScrollArea;
    scroll->setWidget(m_form);
    scroll->setWidgetResizable(true);
    scroll->setFrameShape(QFrame::NoFrame);
    scroll->setHorizontalScrollBarPolicy(Qt::ScrollBarAlwaysOff);
    m_settings = new Foldable(tr("Settings"), QStringLiteral("relay/settingsOpen"), scroll, this);
    m_settings->setObjectName(QStringLiteral("relaySettingsSection"));
    // The settings and buttons, hidden for an outbox this console does not relay (the refusal says why).
    m_controls = new QWidget(this);
    m_controls->setObjectName(QStringLiteral("relayControls"));
    auto *controls = new QVBoxLayout(m_controls);
    controls->setContentsMargins(0, 0, 0, 0);
    controls->addLayout(form);
    controls->addWidget(m_settings, 1);
    m_applyBar = new QWidget(this);
    m_applyBar->setObjectName(QStringLiteral("relayApplyBar"));
    auto *apply = new QHBoxLayout(m_applyBar);
    apply->setContentsMargins(0, 0, 0, 0);
    auto *applyNote =
        new QLabel(tr("Changed while relaying: the relayer still uses the settings it started with."), m_applyBar);
    applyNote->setWordWrap(true);
    m_apply = new QPushButton(tr("Apply (restart)"), m_applyBar);
    m_apply->setObjectName(QStringLiteral("relayApply"));
    m_apply->setToolTip(tr("Stops the relayer (requests in flight finish) and starts it again with these settings"));
    apply->addWidget(applyNote, 1);
    apply->addWidget(m_apply);
    m_applyBar->hide();
    controls->addWidget(m_applyBar);
    layout->addWidget(m_controls);

    auto *buttons = new FlowLayout;
    m_start = new QPushButton(tr("Start"), this);
    m_pause = new QPushButton(tr("Pause"), this);
    m_stop = new QPushButton(tr("Stop"), this);
    m_once = new QPushButton(tr("Relay once"), this);
    for (QPushButton *b : {m_start, m_pause, m_stop, m_once})
        buttons->addWidget(b);
    controls->addLayout(buttons);
    m_stateLabel = new QLabel(this);
    m_stateLabel->setObjectName(QStringLiteral("relayState"));
    m_stateLabel->setTextFormat(Qt::PlainText);
    layout->addWidget(m_stateLabel);
    m_refusalLabel = new QLabel(this);
    m_refusalLabel->setObjectName(QStringLiteral("relayRefusal"));
    m_refusalLabel->setTextFormat(Qt::PlainText);
    m_refusalLabel->setWordWrap(true);
    m_refusalLabel->hide();
    layout->addWidget(m_refusalLabel);
    m_routeFigures = new QLabel(this);
    m_routeFigures->setObjectName(QStringLiteral("routeFigures"));
    m_routeFigures->setTextFormat(Qt::PlainText);
    m_routeFigures->setWordWrap(true);
    m_routeFigures->hide();
    layout->addWidget(m_routeFigures);
    m_log = new QPlainTextEdit(this);
    m_log->setObjectName(QStringLiteral("relayLog"));
    m_log->setReadOnly(true);
    m_log->setMaximumBlockCount(2000);
    m_log->setLineWrapMode(QPlainTextEdit::NoWrap);
    layout->addWidget(m_log, 1);

    connect(m_start, &QPushButton::clicked, this, &RelayPanel::start);
    connect(m_pause, &QPushButton::clicked, this, &RelayPanel::pause);
    connect(m_stop, &QPushButton::clicked, this, &RelayPanel::stop);
    connect(m_once, &QPushButton::clicked, this, &RelayPanel::relayOnce);
    connect(m_apply, &QPushButton::clicked, this, &RelayPanel::applySettings);
    connect(m_form, &RelaySettingsForm::changed, this, &RelayPanel::settingsEdited);
    connect(m_url, &QLineEdit::textChanged, this, &RelayPanel::settingsEdited);
    connect(m_url, &QLineEdit::textChanged, this, &RelayPanel::showTransport);
    m_logTimer.setInterval(200);
    connect(&m_logTimer, &QTimer::timeout, this, &RelayPanel::flushLog);
    m_logTimer.start();
    setState(State::Stopped);
    settingsEdited();
}

// The transport a target goes through, by its scheme; for a broker whose plug-in is not installed, that.
void RelayPanel::showTransport()
{
    const QUrl url(targetUrl());
    const QString scheme = url.scheme().toLower();
    if (scheme.isEmpty()) {
        m_transport->clear();
        return;
    }
    const auto known = transports().constFind(scheme);
    const bool builtIn = known != transports().cend() && known->package.isEmpty();
    RelayerConfig config;
    config.targetUrl = url;
    if (!builtIn && config.problem().startsWith(QLatin1String("no transport for"))) {
        m_transport->setText(known != transports().cend()
                ? tr("No transport for %1:// is installed (package outbox-transport-%2)").arg(scheme, known->package)
                : tr("No transport for %1:// is installed").arg(scheme));
        return;
    }
    m_transport->setText(
        tr("Via: %1").arg(known != transports().cend() ? known->name : tr("the %1:// transport plug-in").arg(scheme)));
}

void RelayPanel::showRouteFigures()
{
    QStringList parts;
    for (auto it = m_routeCounts.cbegin(); it != m_routeCounts.cend(); ++it) {
        const QString via = m_routeVia.value(it.key());
        parts << tr("%1%2: %3 sent, %4 retry, %5 failed")
                     .arg(it.key(), via.isEmpty() ? QString() : tr(" via %1").arg(via))
                     .arg(it.value()[0])
                     .arg(it.value()[1])
                     .arg(it.value()[2]);
    }
    m_routeFigures->setText(tr("Routes — %1").arg(parts.join(QStringLiteral(" · "))));
}

RelayPanel::~RelayPanel()
{
    if (m_relayer)
        m_relayer->stop();
}

void RelayPanel::setConnection(const ConnectionSpec &spec, bool open, const QString &refusal)
{
    stopNow();
    if (targetKey(spec) != targetKey(m_spec)) {
        rememberTarget();
        m_receiverUrl.clear();
        m_url->setText(QSettings().value(targetKey(spec)).toString());
        m_otherTargets.clear();
        m_pending = 0;
        m_demoOutbox = false;
    }
    m_spec = spec;
    m_open = open;
    m_refusal = open ? refusal : QString();
    m_refusalLabel->setText(m_refusal.isEmpty() ? QString() : tr("Not relayed from here: %1.").arg(m_refusal));
    m_refusalLabel->setVisible(!m_refusal.isEmpty());
    m_controls->setVisible(m_refusal.isEmpty()); // no settings that look editable where nothing will relay
    updateButtons();
}

void RelayPanel::setTargetUrl(const QString &url, bool localReceiver)
{
    m_receiverUrl = localReceiver ? url : QString();
    m_url->setText(url);
}

QString RelayPanel::targetUrl() const
{
    return m_url->text().trimmed();
}

void RelayPanel::setOutboxFacts(qint64 pending, const QStringList &otherTargets, bool demo)
{
    m_pending = pending;
    m_otherTargets = otherTargets;
    m_demoOutbox = demo;
}

// Per outbox, by its location without credentials.
QString RelayPanel::targetKey(const ConnectionSpec &spec)
{
    const QByteArray where = spec.displayUrl().toUtf8();
    return where.isEmpty() ? QString()
                           : QStringLiteral("relay/targets/")
            + QString::fromLatin1(QCryptographicHash::hash(where, QCryptographicHash::Sha1).toHex().left(20));
}

// The target typed for this outbox, without a password, and never the local receiver (its port dies with this
// run, and the next run must not relay to whatever listens there).
void RelayPanel::rememberTarget() const
{
    const QString key = targetKey(m_spec);
    const QString url = m_url->text().trimmed();
    if (key.isEmpty() || (!m_receiverUrl.isEmpty() && url == m_receiverUrl))
        return;
    QSettings s;
    if (url.isEmpty())
        s.remove(key);
    else
        s.setValue(key, QUrl(url).toString(QUrl::RemovePassword));
}

bool RelayPanel::confirmTarget()
{
    const QString url = targetUrl();
    // The local receiver by where it listens, whatever path or user the URL was given.
    const QUrl typed(url), receiver(m_receiverUrl);
    const bool ownReceiver = !m_receiverUrl.isEmpty() && typed.host() == receiver.host()
        && typed.port(-1) == receiver.port(-1) && typed.scheme() == receiver.scheme();
    const QString shown = QUrl(url).toDisplayString(QUrl::RemovePassword);
    const bool elsewhere = !m_otherTargets.isEmpty() && !m_otherTargets.contains(shown);
    const QString pair = targetKey(m_spec) + QLatin1Char(' ') + url;
    if (url.isEmpty() || m_demoOutbox || (!ownReceiver && !elsewhere) || pair == m_confirmedTarget)
        return true;
    QString text = tr("Relay the %L1 pending event(s) of %2 to %3?").arg(m_pending).arg(m_spec.displayUrl(), shown);
    if (ownReceiver)
        text += QStringLiteral("\n\n")
            + tr("That is this console's own test receiver: the events would be marked sent, yet reach nothing "
                 "beyond this console.");
    if (elsewhere)
        text += QStringLiteral("\n\n")
            + tr("The outbox's other relayers send to: %1.").arg(m_otherTargets.join(QStringLiteral(", ")));
    if (QMessageBox::question(
            this, tr("Relay to this target?"), text, QMessageBox::Yes | QMessageBox::No, QMessageBox::No)
        != QMessageBox::Yes)
        return false;
    m_confirmedTarget = pair;
    return true;
}

// The panel's settings by the names outboxctl relay gives them (relayersettings.h). The secrets (the typed
// header, the header, signing-secret and routes files) are read when the relayer is built, never kept.
QHash<QString, QStringList> RelayPanel::settings(bool withSecrets) const
{
    QHash<QString, QStringList> s;
    s.insert(QStringLiteral("target"), {targetUrl()});
    m_form->addTo(s, withSecrets);
    return s;
}

bool RelayPanel::configFor(const QString &target, RelayerConfig *c, QString *problem) const
{
    QHash<QString, QStringList> s = settings(false);
    s.insert(QStringLiteral("target"), {target});
    c->name = QStringLiteral("console");
    return relayerConfigFromSettings([&s](const QString &name) { return s.value(name); }, c, problem);
}

bool RelayPanel::ensureRelayer()
{
    if (m_relayer)
        return true;
    RelayerConfig c;
    c.name = QStringLiteral("console");
    QString problem;
    const QHash<QString, QStringList> s = settings(true);
    if (!m_open)
        problem = tr("No outbox is open.");
    else if (targetUrl().isEmpty() && !m_form->hasRoutes())
        problem = tr("Set the target URL first (or start the receiver and use it as the target).");
    else
        relayerConfigFromSettings([&s](const QString &name) { return s.value(name); }, &c, &problem);
    if (!problem.isEmpty()) {
        QMessageBox::warning(this, tr("Cannot relay"), problem);
        return false;
    }
    m_relayer = std::make_unique<Relayer>(m_spec, c);
    m_relayerSettings = s;
    connect(m_relayer.get(), &Relayer::eventSent, this, [this](const QString &id, int status, qint64 ms) {
        appendLog(tr("sent    %1  HTTP %2  %3 ms").arg(id).arg(status).arg(ms));
    });
    connect(m_relayer.get(), &Relayer::eventRetryScheduled, this,
        [this](const QString &id, int status, const QString &error, const QDateTime &next) {
            appendLog(tr("retry   %1  %2  %3 (next %4)")
                          .arg(id, status > 0 ? QStringLiteral("HTTP %1").arg(status) : QStringLiteral("-"),
                              oneLine(error, 200), next.toLocalTime().toString(QStringLiteral("HH:mm:ss"))));
            Q_EMIT relayError(tr("%1: %2").arg(id, error), QDateTime::currentDateTimeUtc());
        });
    connect(m_relayer.get(), &Relayer::eventFailed, this, [this](const QString &id, int status, const QString &error) {
        appendLog(tr("FAILED  %1  %2  %3")
                      .arg(id, status > 0 ? QStringLiteral("HTTP %1").arg(status) : QStringLiteral("-"),
                          oneLine(error, 200)));
        Q_EMIT relayError(tr("%1: %2").arg(id, error), QDateTime::currentDateTimeUtc());
    });
    connect(m_relayer.get(), &Relayer::errorOccurred, this, [this](const QString &message) {
        appendLog(tr("error   %1").arg(oneLine(message, 300)));
        Q_EMIT relayError(message, QDateTime::currentDateTimeUtc());
    });
    // Each route by name with its transport, from the start (before any outcome), then its counts.
    m_routeCounts.clear();
    m_routeVia.clear();
    for (const RelayRoute &route : c.routes) {
        m_routeCounts[route.name] = {0, 0, 0};
        m_routeVia.insert(route.name, shortTransportName(route.targetUrl.isEmpty() ? c.targetUrl : route.targetUrl));
    }
    m_routeFigures->setVisible(!c.routes.isEmpty());
    m_routeFigures->clear();
    if (!c.routes.isEmpty()) {
        showRouteFigures();
        connect(m_relayer.get(), &Relayer::routeOutcome, this,
            [this](const QString &route, Attempt::Outcome outcome, qint64) {
                ++m_routeCounts[route][outcome == Attempt::Outcome::Sent ? 0
                        : outcome == Attempt::Outcome::Retry             ? 1
                                                                         : 2];
                showRouteFigures();
            });
    }
    connect(m_relayer.get(), &Relayer::batchFinished, this, [this](int processed) {
        if (processed > 0)
            Q_EMIT deliveriesHappened();
    });
    return true;
}

void RelayPanel::checkTargetThen(const std::function<void()> &go)
{
    // Something must answer at the target's host and port: a relayer started towards a dead port (a demo
    // receiver of an earlier run) would put every event it takes into retry.
    const QUrl url(targetUrl());
    if (!url.isValid() || url.host().isEmpty()
        || (url.scheme() != QLatin1String("http") && url.scheme() != QLatin1String("https"))) {
        go(); // the relayer says what is wrong with the URL
        return;
    }
    const int port = url.port(url.scheme() == QLatin1String("https") ? 443 : 80);
    const QString where = QStringLiteral("%1:%2").arg(url.host()).arg(port);
    m_checking = true;
    updateButtons();
    m_stateLabel->setText(tr("Relayer: checking %1…").arg(where));
    auto *socket = new QTcpSocket(this);
    auto done = std::make_shared<bool>(false);
    auto finish = [this, socket, go, where, done](bool answered, const QString &why) {
        if (*done)
            return;
        *done = true;
        socket->abort();
        socket->deleteLater();
        m_checking = false;
        setState(m_state); // the state line and the buttons again
        if (answered) {
            go();
            return;
        }
        appendLog(tr("target check: nothing answers at %1 (%2)").arg(where, why));
        if (QMessageBox::question(this, tr("The target does not answer"),
                tr("Nothing answers at %1: %2.\n\nRelay anyway? Every event taken would fail its attempt and wait "
                   "for a retry.")
                    .arg(where, why),
                QMessageBox::Yes | QMessageBox::No, QMessageBox::No)
            == QMessageBox::Yes)
            go();
    };
    connect(socket, &QTcpSocket::connected, this, [finish] { finish(true, QString()); });
    connect(socket, &QAbstractSocket::errorOccurred, this,
        [finish, socket](QAbstractSocket::SocketError) { finish(false, socket->errorString()); });
    QTimer::singleShot(3000, socket, [finish] { finish(false, tr("no answer within 3 s")); });
    socket->connectToHost(url.host(), quint16(port));
}

void RelayPanel::start()
{
    if (!m_refusal.isEmpty()) {
        QMessageBox::information(this, tr("Not relayed from here"), m_refusal);
        return;
    }
    if (m_state == State::Stopped && !m_checking && !m_onceRunning) {
        if (!confirmTarget())
            return;
        checkTargetThen([this] { startChecked(); });
        return;
    }
    startChecked();
}

void RelayPanel::startChecked()
{
    if (m_state == State::Running || m_state == State::Stopping || m_onceRunning || m_checking || !ensureRelayer())
        return;
    if (Error e = m_relayer->start()) {
        QMessageBox::warning(this, tr("Cannot relay"), e.message());
        m_relayer.reset();
        return;
    }
    appendLog(tr("relayer started: %1, %2 mode")
                  .arg(QUrl(targetUrl()).toDisplayString(QUrl::RemovePassword), m_form->modeText()));
    setState(State::Running);
}

void RelayPanel::pause()
{
    if (m_state != State::Running)
        return;
    setState(State::Stopping);
    m_relayer->stopAsync([this] {
        appendLog(tr("relayer paused"));
        setState(State::Paused);
    });
}

void RelayPanel::stop()
{
    if (!m_relayer || m_state == State::Stopping)
        return;
    if (m_onceRunning)
        return; // the batch in progress ends first; its completion drops the relayer
    setState(State::Stopping);
    m_relayer->stopAsync([this] {
        m_relayer.reset();
        appendLog(tr("relayer stopped"));
        setState(State::Stopped);
    });
}

void RelayPanel::stopNow()
{
    if (!m_relayer)
        return;
    QGuiApplication::setOverrideCursor(Qt::WaitCursor);
    m_relayer->stop();
    QGuiApplication::restoreOverrideCursor();
    m_relayer.reset(); // a pending stopAsync callback goes with it
    m_onceRunning = false;
    setState(State::Stopped);
}

void RelayPanel::relayOnce()
{
    if (!m_refusal.isEmpty()) {
        QMessageBox::information(this, tr("Not relayed from here"), m_refusal);
        return;
    }
    if (m_state != State::Stopped || m_onceRunning || m_checking || !confirmTarget())
        return;
    checkTargetThen([this] {
        if (m_state != State::Stopped || m_onceRunning || !ensureRelayer())
            return;
        relayOnceChecked();
    });
}

void RelayPanel::relayOnceChecked()
{
    m_onceRunning = true;
    updateButtons();
    m_relayer->relayOnceAsync([this](const RelayOnceResult &r) {
        m_onceRunning = false;
        if (r.error)
            appendLog(tr("relay once: %1").arg(r.error.message()));
        else
            appendLog(tr("relay once: %n event(s) processed", nullptr, r.processed));
        if (r.processed > 0)
            Q_EMIT deliveriesHappened();
        if (m_state == State::Stopped)
            m_relayer.reset(); // settings may change before the next run
        updateButtons();
    });
}

void RelayPanel::settingsEdited()
{
    m_settings->setSummary(m_form->summary());
    updateButtons(); // the apply bar, when the relayer runs with other settings
}

// The relayer again with the settings as they are now: it stops (requests in flight finish) and starts. A
// paused one only drops its relayer, so Resume builds the new one.
void RelayPanel::applySettings()
{
    if (m_state == State::Paused) {
        m_relayer.reset();
        appendLog(tr("new settings: they apply on Resume"));
        updateButtons();
        return;
    }
    if (m_state != State::Running || !confirmTarget())
        return;
    setState(State::Stopping);
    m_relayer->stopAsync([this] {
        m_relayer.reset();
        appendLog(tr("relayer stopped to apply new settings"));
        setState(State::Stopped);
        start();
    });
}

void RelayPanel::setState(State state)
{
    m_state = state;
    static const char *const names[] = {"Stopped", "Running", "Stopping (requests in flight finish)…", "Paused"};
    m_stateLabel->setText(tr("Relayer: %1").arg(tr(names[int(state)])));
    updateButtons();
    Q_EMIT stateChanged(state);
}

void RelayPanel::updateButtons()
{
    const bool settled = m_state == State::Stopped || m_state == State::Paused;
    const bool canRelay = m_open && m_refusal.isEmpty() && !m_checking;
    m_start->setEnabled(canRelay && settled && !m_onceRunning);
    m_start->setText(m_state == State::Paused ? tr("Resume") : tr("Start"));
    m_pause->setEnabled(m_state == State::Running);
    m_stop->setEnabled(m_state == State::Running || m_state == State::Paused);
    m_once->setEnabled(canRelay && settled && !m_onceRunning);
    m_applyBar->setVisible(
        (m_state == State::Running || m_state == State::Paused) && m_relayer && settings(true) != m_relayerSettings);
    m_apply->setEnabled(m_state == State::Running || m_state == State::Paused);
    Q_EMIT controlsChanged();
}

void RelayPanel::clearLog()
{
    m_pendingLog.clear();
    m_droppedLog = 0;
    m_log->clear();
    m_routeFigures->clear();
    m_routeFigures->hide();
}

void RelayPanel::appendLog(const QString &line)
{
    if (m_pendingLog.size() >= kLogLinesPerFlush) {
        ++m_droppedLog;
        return;
    }
    m_pendingLog.append(QDateTime::currentDateTime().toString(QStringLiteral("HH:mm:ss.zzz  ")) + line);
}

void RelayPanel::note(const QString &line)
{
    appendLog(line);
    flushLog();
}

void RelayPanel::flushLog()
{
    if (m_pendingLog.isEmpty())
        return;
    if (m_droppedLog > 0)
        m_pendingLog.append(tr("… and %n more", nullptr, m_droppedLog));
    m_log->appendPlainText(m_pendingLog.join(QLatin1Char('\n')));
    m_pendingLog.clear();
    m_droppedLog = 0;
}

void RelayPanel::loadSettings()
{
    // The target is the outbox's (setConnection); an older version's one target for every outbox is not used.
    QSettings().remove(QStringLiteral("relay/url"));
    m_form->load();
}

void RelayPanel::saveSettings() const
{
    rememberTarget(); // a password in the URL is never stored (nor the typed-in header): only file paths are
    m_form->save();
}

} // namespace outbox::ui
