// SPDX-License-Identifier: MIT
#include "connectdialog.h"

#include "tones.h"
#include "dialect.h"

#include <QComboBox>
#include <QDialogButtonBox>
#include <QFormLayout>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QSignalBlocker>
#include <QSpinBox>

namespace outbox::ui {

// (Long: it lays the form out top to bottom, one block per field.)
ConnectDialog::ConnectDialog(QWidget *parent) : QDialog(parent)
{
    setWindowTitle(tr("Connect to an outbox on a database server"));
    setObjectName(QStringLiteral("connectDialog"));
    auto *form = new QFormLayout(this);
    m_url = new QLineEdit(this);
    m_url->setObjectName(QStringLiteral("connectUrl"));
    m_url->setPlaceholderText(tr("paste postgresql://user@host:5432/db?sslmode=require or mysql://…"));
    m_url->setClearButtonEnabled(true);
    form->addRow(tr("URL"), m_url);
    connect(m_url, &QLineEdit::textChanged, this, [this](const QString &text) {
        // A paste grows the text by more than a key does: only then does the focus move on to the password
        // (a URL being typed must keep it, whether or not the window is active yet).
        const bool pasted = text.size() - m_urlLength > 1;
        m_urlLength = text.size();
        auto parsed = ConnectionSpec::fromUrl(text.trimmed());
        if (!parsed.isOk() || !offers(*parsed)) {
            m_url->setToolTip(parsed.isOk() ? tr("Not a database server's URL") : parsed.error().message());
            return;
        }
        m_url->setToolTip(QString());
        const QSignalBlocker blocker(m_url);
        fill(*parsed, pasted && !parsed->database.isEmpty());
    });
    m_server = new QComboBox(this);
    // The database servers the engine runs on, with their names and default ports from their dialects.
    for (const outbox::detail::Dialect *d : outbox::detail::Dialect::all()) {
        if (d->has(outbox::Storage::Capability::ServerConnection))
            m_server->addItem(d->displayName(), d->driverName());
    }
    m_host = new QLineEdit(QStringLiteral("localhost"), this);
    m_port = new QSpinBox(this);
    m_port->setRange(1, 65535);
    m_port->setValue(serverDialect()->defaultPort());
    // The port follows the server's kind while it is still another kind's default.
    connect(m_server, &QComboBox::currentIndexChanged, this, [this] {
        const outbox::detail::Dialect *chosen = serverDialect();
        for (const outbox::detail::Dialect *d : outbox::detail::Dialect::all()) {
            if (d != chosen && d->defaultPort() == m_port->value())
                m_port->setValue(chosen->defaultPort());
        }
        m_sslMode->setEnabled(!chosen->tlsModeOption().isEmpty());
        m_extraOptions.clear(); // the other kind's options mean nothing to this one
    });
    form->addRow(tr("Server"), m_server);
    m_database = new QLineEdit(this);
    m_user = new QLineEdit(this);
    m_password = new QLineEdit(this);
    m_password->setEchoMode(QLineEdit::Password);
    m_password->setToolTip(tr("Used for this connection only; never saved"));
    m_server->setObjectName(QStringLiteral("connectServer"));
    m_host->setObjectName(QStringLiteral("connectHost"));
    m_port->setObjectName(QStringLiteral("connectPort"));
    m_database->setObjectName(QStringLiteral("connectDatabase"));
    m_user->setObjectName(QStringLiteral("connectUser"));
    m_password->setObjectName(QStringLiteral("connectPassword"));
    form->addRow(tr("Host"), m_host);
    form->addRow(tr("Port"), m_port);
    form->addRow(tr("Database"), m_database);
    form->addRow(tr("User"), m_user);
    form->addRow(tr("Password"), m_password);
    m_sslMode = new QComboBox(this);
    m_sslMode->setObjectName(QStringLiteral("sslmode"));
    m_sslMode->addItem(tr("default (prefer)"), QString());
    for (const char *mode : {"disable", "allow", "prefer", "require", "verify-ca", "verify-full"})
        m_sslMode->addItem(QLatin1String(mode), QLatin1String(mode));
    m_sslMode->setToolTip(tr("PostgreSQL's sslmode: require encrypts; verify-full also checks the server's name"));
    form->addRow(tr("TLS (sslmode)"), m_sslMode);
    m_error = new QLabel(this);
    m_error->setObjectName(QStringLiteral("connectError"));
    m_error->setTextFormat(Qt::PlainText);
    m_error->setWordWrap(true);
    m_error->setStyleSheet(toneStyle(Tone::Bad));
    m_error->hide();
    form->addRow(m_error);
    auto *buttons = new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel, this);
    buttons->button(QDialogButtonBox::Ok)->setText(tr("Connect"));
    form->addRow(buttons);
    connect(buttons, &QDialogButtonBox::accepted, this, &QDialog::accept);
    connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
}

void ConnectDialog::setError(const QString &error)
{
    m_error->setText(error.isEmpty() ? QString() : tr("Could not connect: %1").arg(error));
    m_error->setVisible(!error.isEmpty());
}

bool ConnectDialog::offers(const ConnectionSpec &spec)
{
    const outbox::detail::Dialect *d = outbox::detail::Dialect::forDriver(spec.driver);
    return d && d->has(outbox::Storage::Capability::ServerConnection);
}

void ConnectDialog::setSpec(const ConnectionSpec &spec)
{
    fill(spec, !spec.database.isEmpty());
}

void ConnectDialog::fill(const ConnectionSpec &spec, bool toPassword)
{
    m_server->setCurrentIndex(qMax(0, m_server->findData(spec.driver)));
    const QString tlsMode = serverDialect()->tlsModeOption();
    // The connect options: the TLS mode to its box; the others kept as they were (a pasted URL's).
    QStringList extra;
    QString sslMode;
    for (const QString &option : spec.options.split(QLatin1Char(';'), Qt::SkipEmptyParts)) {
        const QString key = option.section(QLatin1Char('='), 0, 0).trimmed();
        QString value = option.section(QLatin1Char('='), 1).trimmed();
        if (value.size() >= 2 && value.startsWith(QLatin1Char('\'')) && value.endsWith(QLatin1Char('\'')))
            value = value.mid(1, value.size() - 2);
        if (!tlsMode.isEmpty() && key == tlsMode)
            sslMode = value;
        else
            extra << option;
    }
    m_extraOptions = extra.join(QLatin1Char(';'));
    m_sslMode->setCurrentIndex(qMax(0, m_sslMode->findData(sslMode)));
    m_host->setText(spec.host);
    if (spec.port > 0)
        m_port->setValue(spec.port);
    m_database->setText(spec.database);
    m_user->setText(spec.user);
    m_password->setText(spec.password);
    if (toPassword)
        m_password->setFocus();
}

// The dialect of the server kind chosen in the form.
const outbox::detail::Dialect *ConnectDialog::serverDialect() const
{
    for (const outbox::detail::Dialect *d : outbox::detail::Dialect::all()) {
        if (d->driverName() == m_server->currentData().toString())
            return d;
    }
    return outbox::detail::Dialect::all().constLast();
}

ConnectionSpec ConnectDialog::spec() const
{
    ConnectionSpec s;
    s.driver = serverDialect()->driverName();
    QStringList options;
    const QString tlsMode = serverDialect()->tlsModeOption();
    const QString timeout = serverDialect()->connectTimeoutOption();
    if (!m_extraOptions.contains(timeout))
        options << timeout + QStringLiteral("=5"); // a dead host is told in seconds, not minutes
    if (!tlsMode.isEmpty() && !m_sslMode->currentData().toString().isEmpty())
        options << QStringLiteral("%1='%2'").arg(tlsMode, m_sslMode->currentData().toString());
    if (!m_extraOptions.isEmpty())
        options << m_extraOptions;
    s.options = options.join(QLatin1Char(';'));
    s.host = m_host->text().trimmed();
    s.port = m_port->value();
    // Several PostgreSQL hosts with a port each (a pasted multi-host URL): libpq's port list, not the box.
    if (s.host.contains(QLatin1Char(',')) && m_extraOptions.contains(QStringLiteral("port=")))
        s.port = -1;
    s.database = m_database->text().trimmed();
    s.user = m_user->text().trimmed();
    s.password = m_password->text();
    return s;
}

} // namespace outbox::ui
