// SPDX-License-Identifier: MIT
#include "testerpanel.h"

#include "flowlayout.h"
#include "foldable.h"

#include "relayerconfig.h"
#include "transportplugin.h"
#include "transportplugins.h"

#include "hovertext.h"
#include "textutil.h"
#include "tones.h"
#include "configfiles.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDoubleSpinBox>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QMessageBox>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QScrollBar>
#include <QSpinBox>
#include <QSplitter>
#include <QTreeWidget>
#include <QVBoxLayout>

#include <algorithm>

namespace outbox::ui {

namespace {
constexpr int kKeptRequests = 2000;
}

// (Long: it lays the panel out top to bottom, one block per control, so it reads like the panel.)
TesterPanel::TesterPanel(QWidget *parent) : QWidget(parent), m_receiver(new Receiver(this))
{
    setObjectName(QStringLiteral("testerPanel"));
    auto *layout = new QVBoxLayout(this);
    auto *top = new FlowLayout; // more lines in a narrow dock, never a wider window
    m_port = new QSpinBox(this);
    m_port->setRange(0, 65535);
    m_port->setSpecialValueText(tr("any free port"));
    m_startStop = new QPushButton(tr("Start receiver"), this);
    m_useAsTarget = new QPushButton(tr("Use as relay target"), this);
    m_useAsTarget->setObjectName(QStringLiteral("useAsTarget"));
    m_clear = new QPushButton(tr("Clear"), this);
    m_state = new QLabel(this);
    m_state->setObjectName(QStringLiteral("testerState"));
    m_state->setTextFormat(Qt::PlainText);
    m_state->setTextInteractionFlags(Qt::TextSelectableByMouse);
    top->addWidget(labelled(tr("Port"), m_port, this));
    top->addWidget(m_startStop);
    top->addWidget(m_useAsTarget);
    top->addWidget(m_clear);
    m_state->setMinimumWidth(60); // cut rather than holding the dock wide, whole on hover
    showCutTextOnHover(m_state);
    top->addWidget(m_state);
    layout->addLayout(top);

    // A broker destination to subscribe to, as outboxctl receive --from: faults and signatures are for HTTP.
    auto *broker = new QHBoxLayout;
    m_brokerSource = new QLineEdit(this);
    m_brokerSource->setObjectName(QStringLiteral("brokerSource"));
    m_brokerSource->setPlaceholderText(
        tr("mqtt://127.0.0.1:1883/orders/#, nats://…/orders.>, amqp://…/?queue=Q, kafka://…/TOPIC"));
    m_brokerSource->setToolTip(tr("Receive from a broker through its transport plug-in, as outboxctl receive "
                                  "--from does; what arrives is listed with the HTTP requests. Secrets only from "
                                  "a file (?password-file=). Faults and signatures apply to HTTP only."));
    m_subscribe = new QPushButton(tr("Subscribe"), this);
    m_subscribe->setObjectName(QStringLiteral("subscribe"));
    broker->addWidget(new QLabel(tr("From a broker"), this));
    broker->addWidget(m_brokerSource, 1);
    broker->addWidget(m_subscribe);
    layout->addLayout(broker);
    connect(m_subscribe, &QPushButton::clicked, this, &TesterPanel::toggleSubscription);
    connect(m_brokerSource, &QLineEdit::returnPressed, this, &TesterPanel::toggleSubscription);
    m_subscriptionState.setInterval(1000);
    connect(&m_subscriptionState, &QTimer::timeout, this, &TesterPanel::updateState);

    // The faults, rules and signature check fold away behind a summary, so the requests keep the room.
    auto *faultsPart = new QWidget;
    auto *faultsLayout = new QVBoxLayout(faultsPart);
    faultsLayout->setContentsMargins(0, 0, 0, 0);
    auto *faults = new FlowLayout;
    m_status = new QComboBox(this);
    m_status->setObjectName(QStringLiteral("faultStatus"));
    m_status->setEditable(true);
    for (const char *s : {"200", "202", "400", "404", "408", "429", "500", "503"})
        m_status->addItem(QString::fromLatin1(s));
    m_failRate = new QDoubleSpinBox(this);
    m_failRate->setRange(0, 100);
    m_failRate->setSuffix(tr(" %"));
    m_failRate->setDecimals(0);
    m_failRate->setToolTip(tr("Share of requests answered with the status (100 %: all of them)"));
    m_failRate->setValue(100);
    m_delay = new QSpinBox(this);
    m_delay->setRange(0, 600000);
    m_delay->setSuffix(tr(" ms"));
    m_retryAfter = new QSpinBox(this);
    m_retryAfter->setRange(-1, 86400);
    m_retryAfter->setSpecialValueText(tr("none"));
    m_retryAfter->setValue(-1);
    m_retryAfter->setSuffix(tr(" s"));
    m_hang = new QCheckBox(tr("Hang"), this);
    m_hang->setToolTip(tr("Never answer: the relayer's request timeout must fire"));
    m_drop = new QCheckBox(tr("Drop connection"), this);
    faults->addWidget(labelled(tr("Reply"), m_status, this));
    faults->addWidget(labelled(tr("to"), m_failRate, this));
    faults->addWidget(labelled(tr("Delay"), m_delay, this));
    faults->addWidget(labelled(tr("Retry-After"), m_retryAfter, this));
    faults->addWidget(m_hang);
    faults->addWidget(m_drop);
    faultsLayout->addLayout(faults);
    // Faults for some events only, one rule a line, in the language of `outboxctl receive --rule`.
    auto *rules = new QHBoxLayout;
    m_rules = new QPlainTextEdit(this);
    m_rules->setObjectName(QStringLiteral("faultRules"));
    m_rules->setPlaceholderText(tr("Faults for some events only, one rule a line, e.g. "
                                   "type=com.example.order.*,status=503,retry-after=5 (keys: type, source, subject "
                                   "with * as wildcard; status, fail-rate, delay, retry-after, hang, drop)"));
    m_rules->setToolTip(m_rules->placeholderText());
    m_rules->setLineWrapMode(QPlainTextEdit::NoWrap);
    m_rules->setTabChangesFocus(true);
    m_rules->setMaximumHeight(m_rules->fontMetrics().lineSpacing() * 3 + 12);
    rules->addWidget(new QLabel(tr("Rules"), this), 0, Qt::AlignTop);
    rules->addWidget(m_rules, 1);
    faultsLayout->addLayout(rules);
    auto *signing = new QHBoxLayout;
    m_signingFile = new QLineEdit(this);
    m_signingFile->setObjectName(QStringLiteral("receiverSigningFile"));
    m_signingFile->setPlaceholderText(
        tr("file with a whsec_ secret: verify Standard Webhooks signatures (401 when wrong)"));
    signing->addWidget(new QLabel(tr("Verify signatures"), this));
    signing->addWidget(m_signingFile, 1);
    faultsLayout->addLayout(signing);
    m_faultsPart = new Foldable(tr("Faults and signatures"), QStringLiteral("tester/faultsOpen"), faultsPart, this);
    m_faultsPart->setObjectName(QStringLiteral("testerFaults"));
    layout->addWidget(m_faultsPart);

    auto *split = new QSplitter(Qt::Horizontal, this);
    m_list = new QTreeWidget(split);
    m_list->setObjectName(QStringLiteral("received"));
    m_list->setRootIsDecorated(false);
    m_list->setUniformRowHeights(true);
    m_list->setTextElideMode(Qt::ElideMiddle); // ids share their UUIDv7 prefix: keep both ends
    m_list->setHeaderLabels({tr("Received"), tr("Mode"), tr("Reply"), tr("Type"), tr("Id"), tr("Verdict")});
    m_detail = new QPlainTextEdit(split);
    m_detail->setObjectName(QStringLiteral("receivedDetail"));
    m_detail->setReadOnly(true);
    m_detail->setLineWrapMode(QPlainTextEdit::NoWrap);
    split->setStretchFactor(0, 3);
    split->setStretchFactor(1, 2);
    layout->addWidget(split, 1);

    connect(m_startStop, &QPushButton::clicked, this, [this] {
        if (m_receiver->isListening())
            stopReceiver();
        else if (!startReceiver(quint16(m_port->value())))
            QMessageBox::warning(this, tr("Receiver"), m_state->text());
    });
    connect(m_useAsTarget, &QPushButton::clicked, this, [this] {
        if (!m_receiver->isListening() && !startReceiver(quint16(m_port->value()))) {
            QMessageBox::warning(this, tr("Receiver"), m_state->text());
            return;
        }
        Q_EMIT useAsTargetRequested(receiverUrl());
    });
    connect(m_clear, &QPushButton::clicked, this, [this] {
        m_receiver->clear();
        m_requests.clear();
        m_list->clear();
        m_detail->clear();
    });
    connect(m_status, &QComboBox::currentTextChanged, this, &TesterPanel::applyFaults);
    connect(m_failRate, &QDoubleSpinBox::valueChanged, this, &TesterPanel::applyFaults);
    connect(m_delay, &QSpinBox::valueChanged, this, &TesterPanel::applyFaults);
    connect(m_retryAfter, &QSpinBox::valueChanged, this, &TesterPanel::applyFaults);
    connect(m_hang, &QCheckBox::toggled, this, &TesterPanel::applyFaults);
    connect(m_drop, &QCheckBox::toggled, this, &TesterPanel::applyFaults);
    connect(m_rules, &QPlainTextEdit::textChanged, this, &TesterPanel::applyFaults);
    connect(m_signingFile, &QLineEdit::editingFinished, this, [this] {
        const QString file = m_signingFile->text().trimmed();
        QByteArray secret;
        QString error;
        if (!file.isEmpty() && !readSecretFile(file, tr("signing secret file"), &secret, &error)) {
            m_receiver->setSigningSecret({});
            QMessageBox::warning(this, tr("Receiver"), error);
            return;
        }
        if (!m_receiver->setSigningSecret(secret.trimmed()))
            QMessageBox::warning(this, tr("Receiver"),
                tr("'%1' does not hold a Standard Webhooks secret (whsec_ and base64).").arg(file));
        applyFaults(); // the summary
    });
    applyFaults();
    connect(m_receiver, &Receiver::requestReceived, this, &TesterPanel::addRequest);
    connect(m_list, &QTreeWidget::currentItemChanged, this, &TesterPanel::showSelected);
    m_status->setCurrentIndex(0);
    updateState();
}

TesterPanel::~TesterPanel()
{
    m_subscription.reset();
    m_receiver->close();
}

void TesterPanel::toggleSubscription()
{
    if (m_subscription) {
        unsubscribe();
        return;
    }
    QString error;
    if (!subscribe(&error))
        QMessageBox::warning(this, tr("Receive from a broker"), error);
}

bool TesterPanel::subscribe(QString *error)
{
    const QString text = m_brokerSource->text().trimmed();
    const QUrl source(text, QUrl::StrictMode);
    const QString shown = source.isValid() ? source.toDisplayString(QUrl::RemovePassword) : text;
    if (text.isEmpty() || !source.isValid() || source.scheme().isEmpty() || source.host().isEmpty()) {
        *error = tr("'%1' is not a broker URL: e.g. mqtt://127.0.0.1:1883/orders/#").arg(shown);
    } else if (source.scheme() == QLatin1String("http") || source.scheme() == QLatin1String("https")) {
        *error = tr("'%1' is an HTTP URL: for HTTP, start the receiver and relay to it").arg(shown);
    } else {
        m_subscription = detail::subscribeToBroker(
            source, [this](const ReceivedRequest &request) { addRequest(request); }, error);
        if (m_subscription)
            error->clear();
        else if (error->isEmpty())
            *error = tr("cannot subscribe to %1").arg(shown);
    }
    if (!error->isEmpty()) {
        m_state->setText(tr("Not subscribed: %1").arg(*error));
        return false;
    }
    m_subscribedTo = shown;
    m_brokerSource->setEnabled(false);
    m_subscribe->setText(tr("Unsubscribe"));
    m_subscriptionState.start();
    updateState();
    return true;
}

void TesterPanel::unsubscribe()
{
    m_subscription.reset();
    m_subscriptionState.stop();
    m_brokerSource->setEnabled(true);
    m_subscribe->setText(tr("Subscribe"));
    updateState();
}

QString TesterPanel::stateText() const
{
    return m_state->text();
}

bool TesterPanel::startReceiver(quint16 port)
{
    if (m_receiver->isListening())
        return true;
    applyFaults();
    if (Error e = m_receiver->listen(port)) {
        m_state->setText(tr("Cannot listen: %1").arg(e.message()));
        return false;
    }
    updateState();
    return true;
}

void TesterPanel::stopReceiver()
{
    m_receiver->close();
    updateState();
}

QString TesterPanel::receiverUrl() const
{
    return m_receiver->isListening() ? m_receiver->url().toString() : QString();
}

void TesterPanel::updateState()
{
    const bool on = m_receiver->isListening();
    m_startStop->setText(on ? tr("Stop receiver") : tr("Start receiver"));
    m_port->setEnabled(!on);
    QString state = on ? tr("Listening on %1").arg(receiverUrl()) : tr("Receiver stopped");
    if (m_subscription)
        state += tr(" · from %1: %2").arg(m_subscribedTo, m_subscription->state());
    m_state->setText(state);
}

ReceiverFaults TesterPanel::faultsFromControls() const
{
    ReceiverFaults f;
    bool ok = false;
    const int status = m_status->currentText().trimmed().toInt(&ok);
    f.status = ok && status != 200 ? status : 0;
    if (f.status != 0 && m_failRate->value() < 100)
        f.failRate = m_failRate->value() / 100.0;
    f.delayMs = m_delay->value();
    f.retryAfterSeconds = m_retryAfter->value();
    f.hang = m_hang->isChecked();
    f.dropConnection = m_drop->isChecked();
    return f;
}

Result<QList<ReceiverFaultRule>> TesterPanel::rulesFromControls() const
{
    QList<ReceiverFaultRule> rules;
    const QStringList lines = m_rules->toPlainText().split(QLatin1Char('\n'));
    for (qsizetype i = 0; i < lines.size(); ++i) {
        if (lines.at(i).trimmed().isEmpty())
            continue;
        auto rule = ReceiverFaultRule::parse(lines.at(i));
        if (!rule.isOk())
            return Error(Error::InvalidArgument, tr("line %1: %2").arg(i + 1).arg(rule.error().message()));
        rules.append(*rule);
    }
    return rules;
}

void TesterPanel::applyFaults()
{
    ReceiverFaults f = faultsFromControls();
    const auto rules = rulesFromControls();
    const QString problem = rules.isOk() ? f.problem() : rules.error().message();
    if (!problem.isEmpty()) {
        m_state->setText(tr("Faults not applied: %1").arg(problem));
        m_faultsPart->setOpen(true); // where the bad line is
        return;
    }
    m_receiver->setFaults(f);
    m_receiver->setFaultRules(*rules);
    QStringList parts;
    parts << (f.status == 0 ? tr("replies 200")
                            : tr("replies %1 to %2 %").arg(f.status).arg(f.failRate > 0 ? f.failRate * 100 : 100));
    if (f.delayMs > 0)
        parts << tr("delay %1 ms").arg(f.delayMs);
    if (f.hang)
        parts << tr("hangs");
    if (f.dropConnection)
        parts << tr("drops connections");
    if (!rules->isEmpty())
        parts << tr("%n rule(s)", nullptr, int(rules->size()));
    if (!m_signingFile->text().trimmed().isEmpty())
        parts << tr("signatures checked");
    m_faultsPart->setSummary(parts.join(QStringLiteral(" · ")));
    if (m_receiver->isListening())
        updateState();
}

void TesterPanel::addRequest(const ReceivedRequest &request)
{
    // Following the newest (as tail -f does) when the list is at its end or the newest is the one selected.
    QScrollBar *bar = m_list->verticalScrollBar();
    const bool atEnd = bar->value() >= bar->maximum();
    QTreeWidgetItem *newest = m_list->topLevelItem(m_list->topLevelItemCount() - 1);
    const bool newestSelected = newest && m_list->currentItem() == newest;
    m_requests.append(request);
    if (m_requests.size() > kKeptRequests) {
        m_requests.removeFirst();
        delete m_list->takeTopLevelItem(0);
    }
    const QString when = request.receivedAt.toLocalTime().toString(QStringLiteral("HH:mm:ss.zzz"));
    const QString reply = request.replyStatus > 0 ? QString::number(request.replyStatus) : tr("none");
    QString type, id, verdict;
    bool valid = request.decoded.error.isEmpty() && !request.decoded.events.isEmpty();
    if (!request.decoded.error.isEmpty()) {
        verdict = request.decoded.error;
    } else {
        QStringList types, ids, problems;
        for (const ReceivedEvent &e : request.decoded.events) {
            types.append(e.event.type);
            ids.append(e.event.id);
            problems += e.problems;
            valid = valid && e.isValid();
        }
        type = types.size() > 1 ? tr("%n events", nullptr, int(types.size())) : types.value(0);
        id = ids.value(0);
        verdict = problems.isEmpty() ? tr("valid") : problems.join(QStringLiteral("; "));
    }
    if (!request.signature.isEmpty()) {
        const bool signatureValid = request.signature == QLatin1String("valid");
        verdict = signatureValid ? tr("%1, signature valid").arg(verdict) : request.signature;
        valid = valid && signatureValid;
    }
    auto *item = new QTreeWidgetItem(m_list,
        {when, contentModeName(request.decoded.mode), reply, oneLine(type, 120), oneLine(id, 80),
            oneLine(verdict, 300)});
    item->setData(0, Qt::UserRole, int(m_requests.size() - 1));
    item->setForeground(5, toneColour(valid ? Tone::Good : Tone::Bad));
    item->setToolTip(5, plainTooltip(verdict));
    // The type column as wide as the longest type so far (up to 400 px; the list scrolls sideways in a narrow
    // dock), never "com.e…eated".
    const int typeWidth = m_list->fontMetrics().horizontalAdvance(item->text(3)) + 24;
    if (typeWidth > m_list->columnWidth(3))
        m_list->setColumnWidth(3, std::min(typeWidth, 400));
    item->setToolTip(3, item->text(3));
    if (newestSelected)
        m_list->setCurrentItem(item);
    if (newestSelected || atEnd || !m_list->currentItem())
        m_list->scrollToItem(item);
}

void TesterPanel::showSelected()
{
    QTreeWidgetItem *item = m_list->currentItem();
    if (!item) {
        m_detail->clear();
        return;
    }
    const int index = m_list->indexOfTopLevelItem(item);
    if (index < 0 || index >= m_requests.size())
        return;
    const ReceivedRequest &r = m_requests.at(index);
    QString text = QStringLiteral("%1 %2\n").arg(QString::fromLatin1(r.method), QString::fromUtf8(r.target));
    for (const auto &h : r.message.headers)
        text +=
            QStringLiteral("%1: %2\n").arg(QString::fromLatin1(h.first), oneLine(QString::fromUtf8(h.second), 2000));
    text += QLatin1Char('\n');
    for (const ReceivedEvent &e : r.decoded.events) {
        text +=
            tr("— event %1 (%2)\n").arg(e.event.id, e.isValid() ? tr("valid") : e.problems.join(QStringLiteral("; ")));
        text += QStringLiteral("specversion: %1\ntype: %2\nsource: %3\nsubject: %4\ntime: %5\ndatacontenttype: %6\n")
                    .arg(e.specVersion, e.event.type, e.event.source, e.event.subject, e.time, e.event.contentType);
        for (auto it = e.event.extensions.constBegin(); it != e.event.extensions.constEnd(); ++it)
            text += QStringLiteral("%1: %2\n").arg(it.key(), it.value().toVariant().toString());
        QString kind;
        const QString payload = payloadText(e.event.data.left(256 * 1024), &kind);
        text += tr("data (%1, %2 bytes):\n").arg(kind).arg(e.event.data.size());
        text += payload + QStringLiteral("\n\n");
    }
    if (!r.decoded.error.isEmpty()) {
        QString kind;
        text += tr("Not read: %1\n\n%2").arg(r.decoded.error, payloadText(r.message.body.left(64 * 1024), &kind));
    }
    m_detail->setPlainText(text);
}

} // namespace outbox::ui
