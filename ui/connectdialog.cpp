// SPDX-License-Identifier: MIT
#include "connectdialog.h"

#include <QDialogButtonBox>
#include <QFormLayout>
#include <QLineEdit>
#include <QPushButton>
#include <QSpinBox>

namespace outbox::ui {

ConnectDialog::ConnectDialog(QWidget *parent) : QDialog(parent)
{
    setWindowTitle(tr("Connect to a PostgreSQL outbox"));
    auto *form = new QFormLayout(this);
    m_host = new QLineEdit(QStringLiteral("localhost"), this);
    m_port = new QSpinBox(this);
    m_port->setRange(1, 65535);
    m_port->setValue(5432);
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
    s.backend = ConnectionSpec::Backend::Postgresql;
    s.host = m_host->text().trimmed();
    s.port = m_port->value();
    s.database = m_database->text().trimmed();
    s.user = m_user->text().trimmed();
    s.password = m_password->text();
    return s;
}

} // namespace outbox::ui
