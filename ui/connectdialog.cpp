// SPDX-License-Identifier: MIT
#include "connectdialog.h"

#include <QComboBox>
#include <QDialogButtonBox>
#include <QFormLayout>
#include <QLineEdit>
#include <QPushButton>
#include <QSpinBox>

namespace outbox::ui {

ConnectDialog::ConnectDialog(QWidget *parent) : QDialog(parent)
{
    setWindowTitle(tr("Connect to an outbox on a database server"));
    auto *form = new QFormLayout(this);
    m_server = new QComboBox(this);
    m_server->addItem(tr("PostgreSQL"), int(ConnectionSpec::Backend::Postgresql));
    m_server->addItem(tr("MySQL / MariaDB"), int(ConnectionSpec::Backend::Mysql));
    m_host = new QLineEdit(QStringLiteral("localhost"), this);
    m_port = new QSpinBox(this);
    m_port->setRange(1, 65535);
    m_port->setValue(5432);
    // The port follows the server's kind while it is still the other kind's default.
    connect(m_server, &QComboBox::currentIndexChanged, this, [this] {
        const bool mysql = m_server->currentData().toInt() == int(ConnectionSpec::Backend::Mysql);
        if (m_port->value() == (mysql ? 5432 : 3306))
            m_port->setValue(mysql ? 3306 : 5432);
    });
    form->addRow(tr("Server"), m_server);
    m_database = new QLineEdit(this);
    m_user = new QLineEdit(this);
    m_password = new QLineEdit(this);
    m_password->setEchoMode(QLineEdit::Password);
    m_password->setToolTip(tr("Used for this connection only; never saved"));
    form->addRow(tr("Host"), m_host);
    form->addRow(tr("Port"), m_port);
    form->addRow(tr("Database"), m_database);
    form->addRow(tr("User"), m_user);
    form->addRow(tr("Password"), m_password);
    auto *buttons = new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel, this);
    buttons->button(QDialogButtonBox::Ok)->setText(tr("Connect"));
    form->addRow(buttons);
    connect(buttons, &QDialogButtonBox::accepted, this, &QDialog::accept);
    connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
}

void ConnectDialog::setSpec(const ConnectionSpec &spec)
{
    m_server->setCurrentIndex(qMax(0, m_server->findData(int(spec.backend))));
    m_host->setText(spec.host);
    if (spec.port > 0)
        m_port->setValue(spec.port);
    m_database->setText(spec.database);
    m_user->setText(spec.user);
    m_password->setText(spec.password);
    if (!spec.database.isEmpty())
        m_password->setFocus();
}

ConnectionSpec ConnectDialog::spec() const
{
    ConnectionSpec s;
    s.backend = ConnectionSpec::Backend(m_server->currentData().toInt());
    if (s.backend == ConnectionSpec::Backend::Mysql)
        s.options = QStringLiteral("MYSQL_OPT_CONNECT_TIMEOUT=5");
    s.host = m_host->text().trimmed();
    s.port = m_port->value();
    s.database = m_database->text().trimmed();
    s.user = m_user->text().trimmed();
    s.password = m_password->text();
    return s;
}

} // namespace outbox::ui
