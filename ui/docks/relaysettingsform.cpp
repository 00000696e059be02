// SPDX-License-Identifier: MIT
#include "relaysettingsform.h"

#include "relayerconfig.h"

#include <QComboBox>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QSettings>
#include <QSpinBox>

namespace outbox::ui {

// (Long: one block per setting, in the order the form shows them.)
RelaySettingsForm::RelaySettingsForm(QWidget *parent) : QWidget(parent)
{
    setObjectName(QStringLiteral("relaySettings"));
    auto *form = new QFormLayout(this);
    form->setContentsMargins(0, 0, 0, 0);
    m_mode = new QComboBox(this);
    m_mode->addItem(tr("binary"), int(ContentMode::Binary));
    m_mode->addItem(tr("structured"), int(ContentMode::Structured));
    m_mode->addItem(tr("batched"), int(ContentMode::Batch));
    auto spin = [this](int min, int max, int value, const QString &suffix) {
        auto *s = new QSpinBox(this);
        s->setRange(min, max);
        s->setValue(value);
        s->setSuffix(suffix);
        return s;
    };
    const RelayerConfig defaults;
    m_batch = spin(1, 10000, defaults.batchSize, QString());
    m_poll = spin(10, 600000, defaults.pollIntervalMs, tr(" ms"));
    m_retries = spin(1, 1000, defaults.maxRetries, QString());
    m_backoff = spin(10, 3600000, defaults.retryBackoffMs, tr(" ms"));
    m_backoff->setObjectName(QStringLiteral("relayBackoff"));
    m_backoff->setToolTip(tr("The delay before the first retry; it doubles with each attempt, with jitter"));
    m_backoffCap = spin(10, 86400000, defaults.maxRetryBackoffMs, tr(" ms"));
    m_backoffCap->setObjectName(QStringLiteral("relayBackoffCap"));
    m_backoffCap->setToolTip(tr("The longest delay between two attempts"));
    m_concurrency = spin(1, 64, defaults.concurrency, QString());
    m_timeout = spin(100, 600000, defaults.requestTimeoutMs, tr(" ms"));
    form->addRow(tr("Content mode"), m_mode);
    form->addRow(tr("Batch size"), m_batch);
    form->addRow(tr("Poll interval"), m_poll);
    form->addRow(tr("Max retries"), m_retries);
    auto *backoffRow = new QHBoxLayout;
    backoffRow->addWidget(m_backoff, 1);
    backoffRow->addWidget(new QLabel(tr("doubling up to"), this));
    backoffRow->addWidget(m_backoffCap, 1);
    form->addRow(tr("Retry backoff"), backoffRow);
    form->addRow(tr("Concurrency"), m_concurrency);
    form->addRow(tr("Request timeout"), m_timeout);
    m_caFile = new QLineEdit(this);
    m_caFile->setPlaceholderText(tr("https: extra CA certificates (PEM file)"));
    m_caFile->setToolTip(tr("Certificates are always verified; the system's CAs are trusted, and these too."));
    form->addRow(tr("CA file"), m_caFile);
    auto field = [this, form](const QString &name, const QString &label, const QString &placeholder) {
        auto *edit = new QLineEdit(this);
        edit->setObjectName(name);
        edit->setPlaceholderText(placeholder);
        form->addRow(label, edit);
        return edit;
    };
    m_header = field(QStringLiteral("relayHeader"), tr("Header"), tr("e.g. Authorization: Bearer … (not stored)"));
    m_header->setEchoMode(QLineEdit::PasswordEchoOnEdit);
    m_header->setToolTip(tr(
        "Added to every request. Shown masked, never logged, never stored; for a lasting secret use a header file."));
    m_headerFile = field(QStringLiteral("relayHeaderFile"), tr("Header file"),
        tr("\"Name: value\" per line; not readable by other users"));
    m_signingFile = field(QStringLiteral("relaySigningFile"), tr("Signing secret"),
        tr("file holding a whsec_ secret (Standard Webhooks)"));
    m_clientCert =
        field(QStringLiteral("relayClientCert"), tr("Client certificate"), tr("https: PEM certificate for mTLS"));
    m_clientKey = field(QStringLiteral("relayClientKey"), tr("Client key"), tr("its PEM private key"));
    m_routesFile = field(QStringLiteral("relayRoutesFile"), tr("Routes file"),
        tr("[route NAME] sections: types, target, mode…; the target URL above becomes the default route"));
    for (QLineEdit *e : findChildren<QLineEdit *>())
        connect(e, &QLineEdit::textChanged, this, &RelaySettingsForm::changed);
    for (QSpinBox *b : findChildren<QSpinBox *>())
        connect(b, &QSpinBox::valueChanged, this, &RelaySettingsForm::changed);
    connect(m_mode, &QComboBox::currentIndexChanged, this, &RelaySettingsForm::changed);
}

void RelaySettingsForm::addTo(QHash<QString, QStringList> &s, bool withSecrets) const
{
    auto number = [&s](const char *name, const QSpinBox *box) {
        s.insert(QLatin1String(name), {QString::number(box->value())});
    };
    s.insert(QStringLiteral("mode"), {contentModeName(ContentMode(m_mode->currentData().toInt()))});
    number("batch-size", m_batch);
    number("poll-interval", m_poll);
    number("max-retries", m_retries);
    number("retry-backoff", m_backoff);
    s.insert(QStringLiteral("max-retry-backoff"), {QString::number(qMax(m_backoff->value(), m_backoffCap->value()))});
    number("concurrency", m_concurrency);
    number("timeout", m_timeout);
    s.insert(QStringLiteral("ca-file"), {m_caFile->text()});
    s.insert(QStringLiteral("client-cert"), {m_clientCert->text()});
    s.insert(QStringLiteral("client-key"), {m_clientKey->text()});
    if (withSecrets) {
        s.insert(QStringLiteral("header"), {m_header->text()});
        s.insert(QStringLiteral("header-file"), {m_headerFile->text()});
        s.insert(QStringLiteral("signing-secret-file"), {m_signingFile->text()});
        s.insert(QStringLiteral("routes"), {m_routesFile->text()});
    }
}

QString RelaySettingsForm::modeText() const
{
    return m_mode->currentText();
}

QString RelaySettingsForm::summary() const
{
    auto ms = [](int value) { return value % 1000 == 0 ? tr("%1 s").arg(value / 1000) : tr("%1 ms").arg(value); };
    QStringList parts{m_mode->currentText(), tr("batch %1").arg(m_batch->value()),
        tr("%1 at once").arg(m_concurrency->value()), tr("%1 tries").arg(m_retries->value()),
        tr("timeout %1").arg(ms(m_timeout->value()))};
    if (!m_header->text().isEmpty() || !m_headerFile->text().trimmed().isEmpty())
        parts << tr("headers");
    if (!m_signingFile->text().trimmed().isEmpty())
        parts << tr("signed");
    if (!m_clientCert->text().trimmed().isEmpty())
        parts << tr("client certificate");
    if (hasRoutes())
        parts << tr("routes");
    return parts.join(QStringLiteral(" · "));
}

bool RelaySettingsForm::hasRoutes() const
{
    return !m_routesFile->text().trimmed().isEmpty();
}

void RelaySettingsForm::load()
{
    QSettings s;
    s.beginGroup(QStringLiteral("relay"));
    m_mode->setCurrentIndex(qBound(0, s.value(QStringLiteral("mode"), 0).toInt(), 2));
    m_batch->setValue(s.value(QStringLiteral("batchSize"), m_batch->value()).toInt());
    m_poll->setValue(s.value(QStringLiteral("pollIntervalMs"), m_poll->value()).toInt());
    m_retries->setValue(s.value(QStringLiteral("maxRetries"), m_retries->value()).toInt());
    m_backoff->setValue(s.value(QStringLiteral("retryBackoffMs"), m_backoff->value()).toInt());
    m_backoffCap->setValue(s.value(QStringLiteral("maxRetryBackoffMs"), m_backoffCap->value()).toInt());
    m_concurrency->setValue(s.value(QStringLiteral("concurrency"), m_concurrency->value()).toInt());
    m_timeout->setValue(s.value(QStringLiteral("timeoutMs"), m_timeout->value()).toInt());
    m_caFile->setText(s.value(QStringLiteral("caFile")).toString());
    m_headerFile->setText(s.value(QStringLiteral("headerFile")).toString());
    m_signingFile->setText(s.value(QStringLiteral("signingSecretFile")).toString());
    m_clientCert->setText(s.value(QStringLiteral("clientCertificate")).toString());
    m_clientKey->setText(s.value(QStringLiteral("clientKey")).toString());
    m_routesFile->setText(s.value(QStringLiteral("routesFile")).toString());
}

void RelaySettingsForm::save() const
{
    QSettings s;
    s.beginGroup(QStringLiteral("relay"));
    s.setValue(QStringLiteral("mode"), m_mode->currentIndex());
    s.setValue(QStringLiteral("batchSize"), m_batch->value());
    s.setValue(QStringLiteral("pollIntervalMs"), m_poll->value());
    s.setValue(QStringLiteral("maxRetries"), m_retries->value());
    s.setValue(QStringLiteral("retryBackoffMs"), m_backoff->value());
    s.setValue(QStringLiteral("maxRetryBackoffMs"), m_backoffCap->value());
    s.setValue(QStringLiteral("concurrency"), m_concurrency->value());
    s.setValue(QStringLiteral("timeoutMs"), m_timeout->value());
    s.setValue(QStringLiteral("caFile"), m_caFile->text());
    s.setValue(QStringLiteral("headerFile"), m_headerFile->text());
    s.setValue(QStringLiteral("signingSecretFile"), m_signingFile->text());
    s.setValue(QStringLiteral("clientCertificate"), m_clientCert->text());
    s.setValue(QStringLiteral("clientKey"), m_clientKey->text());
    s.setValue(QStringLiteral("routesFile"), m_routesFile->text());
}

} // namespace outbox::ui
