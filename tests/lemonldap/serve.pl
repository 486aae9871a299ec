#!/usr/bin/perl
# LemonLDAP::NG's portal (Debian's liblemonldap-ng-portal-perl) on loopback, for
# the sign-in tests (tests/common/lemonldap.rs writes its configuration and runs
# this). Usage: serve.pl DIR PORT
#
# - DIR holds lemonldap-ng.ini (which points at DIR/conf, a File configuration
#   backend) and conf/lmConf-1.json without signing keys: a fresh RSA key pair
#   is made here, for this run only, and put into the configuration as the
#   OpenID Connect service's signing keys.
# - The portal and its static files are served by Plack's HTTP::Server::PSGI
#   on 127.0.0.1:PORT, one forked process per connection (as production runs
#   several FastCGI workers): a browser's idle preconnected socket never holds
#   up the next request. Sessions are files under DIR, shared by them.
# - Prints "READY http://127.0.0.1:PORT" once it listens.
# - Exits when its stdin closes (the test process is gone, however it ended):
#   a watcher process waits for the end of stdin and then kills the whole
#   process group, which the kit makes this process the leader of.
use strict;
use warnings;
use JSON ();
use POSIX ();
use Crypt::OpenSSL::RSA;

my ( $dir, $port ) = @ARGV;
die "usage: $0 DIR PORT\n" unless defined $port && $port =~ /^\d+$/;
$| = 1;

my $file = "$dir/conf/lmConf-1.json";
my $conf = do {
    open my $in, '<', $file or die "read $file: $!\n";
    local $/;
    JSON::decode_json(<$in>);
};
my $rsa = Crypt::OpenSSL::RSA->generate_key(2048);
$conf->{oidcServicePrivateKeySig} = $rsa->get_private_key_string;
$conf->{oidcServicePublicKeySig}  = $rsa->get_public_key_x509_string;
{
    open my $out, '>', $file or die "write $file: $!\n";
    print $out JSON->new->canonical->pretty->encode($conf);
    close $out or die "write $file: $!\n";
}
$ENV{LLNG_DEFAULTCONFFILE} = "$dir/lemonldap-ng.ini";

my $group = getpgrp();
my $watcher = fork // die "fork: $!\n";
if ( $watcher == 0 ) {
    open STDOUT, '>', '/dev/null';
    1 while sysread( STDIN, my $chunk, 4096 );
    kill 'KILL', -$group;
    POSIX::_exit(0);
}
open STDIN, '<', '/dev/null';
$SIG{CHLD} = 'IGNORE';

require Plack::Builder;
require Plack::App::File;
require Lemonldap::NG::Portal::Main;
my $static = '/usr/share/lemonldap-ng/portal/htdocs/static';
my $builder = Plack::Builder->new;
$builder->mount( '/static' => Plack::App::File->new( root => $static )->to_app );
# Bootstrap, jQuery and Font Awesome: Debian's packages, where Debian's web
# server configuration for the portal serves them from.
$builder->mount(
    '/javascript' => Plack::App::File->new( root => '/usr/share/javascript' )->to_app );
$builder->mount( '/' => Lemonldap::NG::Portal::Main->run( {} ) );
my $app = $builder->to_app;

package ForkPerConnection {
    use parent -norequire, 'HTTP::Server::PSGI';

    sub handle_connection {
        my ( $self, $env, $conn, $app ) = @_;
        my $pid = fork // die "fork: $!\n";
        return if $pid;    # the parent closes its copy and accepts the next
        $self->SUPER::handle_connection( $env, $conn, $app );
        $conn->close;
        POSIX::_exit(0);
    }
}

require HTTP::Server::PSGI;
ForkPerConnection->new(
    host         => '127.0.0.1',
    port         => $port,
    timeout      => 30,
    server_ready => sub { print "READY http://127.0.0.1:$port\n" },
)->run($app);
