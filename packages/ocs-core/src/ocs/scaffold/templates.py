"""File templates for a new agent package. ``{...}`` fields are filled by
:func:`ocs.scaffold.render.render_package`; literal braces are doubled."""

PYPROJECT = '''\
[build-system]
requires = ["setuptools>=68"]
build-backend = "setuptools.build_meta"

[project]
name = "{dist}"
version = "0.1.0"
description = "OCS {agent_class}: {summary}"
readme = "README.md"
requires-python = ">=3.10"
dependencies = ["ocs-core>=0.13,<0.14"]

[project.entry-points."ocs.plugins"]
{module} = "ocs.agents.{module}.plugin"

[tool.setuptools.packages.find]
where = ["src"]
namespaces = true
'''

README = '''\
# {dist}

`{agent_class}`: {summary}

Install it beside ocs-core and run it from a site config entry with
`agent-class: {agent_class}`:

    pip install -e .
    ocs-agent-cli --instance-id my-{module} --site-host localhost

Operations: `acq` (Process: reads the device at `--sample-rate` and publishes
the recorded feed `readings`), `set_value` (Task).

Test it: `pytest tests` (the integration test starts a real router and the
agent as a process).
'''

PLUGIN = '''\
"""Entry point (group ``ocs.plugins``) telling ocs-agent-cli what this package provides."""
package_name = '{dist}'
agents = {{
    '{agent_class}': {{'module': 'ocs.agents.{module}.agent', 'entry_point': 'main'}},
}}
'''

DRIVERS = '''\
"""Talking to the device. No WAMP here: plain logic you can unit-test."""
import random


class Device:
    """A stand-in for your hardware: replace the bodies with real I/O."""

    def __init__(self, address=None):
        self.address = address
        self.setpoint = 0.0

    def read(self):
        """Return one reading as a dict of field name to value."""
        return {{'value': self.setpoint + random.gauss(0., 0.01)}}

    def set_value(self, value):
        self.setpoint = float(value)
'''

AGENT = '''\
"""{agent_class}: {summary}"""
import argparse
import time

from ocs import ocs_agent, site_config
from ocs.ocs_twisted import Pacemaker, TimeoutLock

from ocs.agents.{module}.drivers import Device


class {agent_class}:
    """{summary}

    Args:
        agent (OCSAgent): From :func:`ocs.ocs_agent.init_site_agent`.
        device (Device): The device driver.
        sample_rate (float): Readings per second in ``acq``.
    """

    def __init__(self, agent, device, sample_rate=1.):
        self.agent = agent
        self.log = agent.log
        self.device = device
        self.sample_rate = sample_rate
        self.lock = TimeoutLock()
        self._acq = False
        agent.register_feed('readings', record=True,
                            agg_params={{'frame_length': 60}}, buffer_time=1.)

    @ocs_agent.param('test_mode', default=False, type=bool)
    def acq(self, session, params):
        """acq(test_mode=False)

        **Process** - Read the device and publish to the ``readings`` feed.

        Notes:
            ``session.data`` holds the latest reading::

                {{'value': 0.01, 'timestamp': 1700000000.0}}
        """
        pace = Pacemaker(self.sample_rate)
        self._acq = True
        session.set_status('running')
        while self._acq:
            pace.sleep()
            with self.lock.acquire_timeout(timeout=1., job='acq') as acquired:
                if not acquired:
                    self.log.warn('lock held by {{job}}; skipping a reading', job=self.lock.job)
                    continue
                reading = self.device.read()
            now = time.time()
            self.agent.publish_to_feed('readings', {{
                'block_name': 'readings', 'timestamp': now, 'data': reading}})
            session.data = dict(reading, timestamp=now)
            if params['test_mode']:
                break
        return True, 'Acquisition stopped.'

    def _stop_acq(self, session, params):
        if not self._acq:
            return False, 'acq is not running.'
        self._acq = False
        return True, 'Stopping acq.'

    @ocs_agent.param('value', type=float)
    def set_value(self, session, params):
        """set_value(value)

        **Task** - Set the device's value.

        Parameters:
            value (float): The new value.
        """
        with self.lock.acquire_timeout(timeout=3., job='set_value') as acquired:
            if not acquired:
                return False, f'Could not acquire lock: held by {{self.lock.job}}.'
            self.device.set_value(params['value'])
        session.data = {{'value': params['value'], 'timestamp': time.time()}}
        return True, f"Value set to {{params['value']}}."


def add_agent_args(parser_in=None):
    """Add this agent's options to ``parser_in`` (or a new parser)."""
    if parser_in is None:
        parser_in = argparse.ArgumentParser()
    pgroup = parser_in.add_argument_group('Agent Options')
    pgroup.add_argument('--address', default=None, help='Device address.')
    pgroup.add_argument('--sample-rate', type=float, default=1.,
                        help='Readings per second.')
    pgroup.add_argument('--mode', choices=['idle', 'acq'], default='acq',
                        help="'acq' starts acquisition at start-up.")
    return parser_in


def main(args=None):
    parser = add_agent_args()
    args = site_config.parse_args(agent_class='{agent_class}', parser=parser, args=args)
    agent, runner = ocs_agent.init_site_agent(args)
    {var} = {agent_class}(agent, Device(args.address), sample_rate=args.sample_rate)
    agent.register_process('acq', {var}.acq, {var}._stop_acq,
                           startup=(args.mode == 'acq'))
    agent.register_task('set_value', {var}.set_value)
    runner.run(agent, auto_reconnect=True)


if __name__ == '__main__':
    main()
'''

TEST = '''\
"""Tests of {agent_class}: the driver alone, then the agent as a real process."""
import time

import pytest

import ocs
from ocs.agents.{module}.drivers import Device


def test_device_reads_what_was_set():
    dev = Device()
    dev.set_value(2.5)
    assert abs(dev.read()['value'] - 2.5) < 0.1


@pytest.mark.integration
def test_agent_on_a_real_router(ocs_router, run_agent):
    agent = run_agent('{module}-test', '{agent_class}', module='ocs.agents.{module}.agent',
                      args=['--mode', 'idle'])

    def ops(*args):
        return ocs_router.call(agent.address + '.ops', *args)['args'][0]

    status, msg, _ = ops('start', 'set_value', {{'value': 4.0}})
    assert status == ocs.OK, msg
    status, msg, session = ops('wait', 'set_value', None, 5)
    assert session['success'] is True and session['data']['value'] == 4.0
    status, msg, _ = ops('start', 'set_value', {{'value': 'four'}})
    assert status == ocs.ERROR and "Param 'value'" in msg
    ops('start', 'acq', {{'test_mode': True}})
    status, msg, session = ops('wait', 'acq', None, 10)
    assert session['success'] is True and abs(session['data']['value'] - 4.0) < 0.1
'''
